// The echo example against an Avant server (task_type = STREAM_TASK), with the Go client.
//
//	example [-tls] [-ca FILE] [-hex] [-fill N] HOST PORT [TEXT...]
//
// Sends each TEXT (default: hello-avant) as the testContext of a ProtoCSReqExample and prints the
// answer's testContext with its round-trip time. -hex: each TEXT is hex, and the answers are
// printed in hex, for bytes a shell argument cannot hold (NUL). -fill N: then echo N bytes of 'x'
// (over the server's limit, the connection is closed: see what that prints). -tls: over TLS,
// checked against -ca (a PEM file; the system's roots without it). Exits 1 when an answer differs
// from what was sent or the connection fails.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"avantgo/avant"
)

func main() {
	useTLS := flag.Bool("tls", false, "connect over TLS")
	caFile := flag.String("ca", "",
		"with -tls: the PEM file the server's certificate is checked against")
	useHex := flag.Bool("hex", false, "TEXTs are hex, answers are printed in hex")
	fill := flag.Int("fill", -1, "then echo this many bytes of 'x'")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: example [-tls] [-ca FILE] [-hex] [-fill N] HOST PORT [TEXT...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	args := flag.Args()
	if len(args) < 2 {
		flag.Usage()
		os.Exit(2)
	}
	if _, err := strconv.ParseUint(args[1], 10, 16); err != nil {
		flag.Usage()
		os.Exit(2)
	}
	addr := net.JoinHostPort(args[0], args[1])

	var messages [][]byte
	for _, text := range args[2:] {
		m := []byte(text)
		if *useHex {
			var err error
			if m, err = hex.DecodeString(text); err != nil {
				fmt.Fprintf(os.Stderr, "example: %q is not hex: %v\n", text, err)
				os.Exit(2)
			}
		}
		messages = append(messages, m)
	}
	if len(messages) == 0 && *fill < 0 {
		messages = append(messages, []byte("hello-avant"))
	}
	if *fill >= 0 {
		messages = append(messages, bytes.Repeat([]byte("x"), *fill))
	}

	opts := avant.Options{}
	if *useTLS {
		opts.TLS = &tls.Config{ServerName: args[0], MinVersion: tls.VersionTLS12}
		if *caFile != "" {
			pem, err := os.ReadFile(*caFile)
			if err != nil {
				fmt.Fprintf(os.Stderr, "example: %v\n", err)
				os.Exit(1)
			}
			opts.TLS.RootCAs = x509.NewCertPool()
			if !opts.TLS.RootCAs.AppendCertsFromPEM(pem) {
				fmt.Fprintf(os.Stderr, "example: no certificate in %s\n", *caFile)
				os.Exit(1)
			}
		}
	}

	client, err := avant.Dial(addr, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "example: %s: %v\n", addr, err)
		os.Exit(1)
	}
	defer client.Close()
	status := 0
	for _, m := range messages {
		started := time.Now()
		answer, err := client.Echo(m)
		if err != nil {
			fmt.Fprintf(os.Stderr, "example: %s: the echo of %d bytes: %v\n", addr, len(m), err)
			os.Exit(1)
		}
		shown := strconv.Quote(string(answer))
		if *useHex {
			shown = hex.EncodeToString(answer)
		}
		fmt.Printf("%s (%d bytes) in %.2f ms\n", shown, len(answer),
			float64(time.Since(started).Microseconds())/1000)
		if !bytes.Equal(answer, m) {
			fmt.Fprintf(os.Stderr, "example: the answer is not the %d bytes that were sent\n", len(m))
			status = 1
		}
	}
	if status != 0 {
		client.Close()
		os.Exit(status)
	}
}
