// The echo example against an Avant server (task_type = STREAM_TASK, or its UDP listener), with
// the Go client.
//
//	example [-tls] [-ca FILE] [-udp] [-timeout D] [-hex] [-fill N] HOST PORT [TEXT...]
//
// Sends each TEXT (default: hello-avant) as the testContext of a ProtoCSReqExample and prints the
// answer's testContext with its round-trip time. -hex: each TEXT is hex, and the answers are
// printed in hex, for bytes a shell argument cannot hold (NUL). -fill N: then echo N bytes of 'x'
// (over the server's limit, the connection is closed: see what that prints; over UDP, a package
// over the largest datagram is refused before it is sent). -tls: over TLS, checked against -ca (a
// PEM file; the system's roots without it). -udp: over UDP, to the port of
// server.other_udp_svr_port; a request or its answer may be lost, so after a timeout the example
// asks once more, from a new socket (the late answer to the first one goes to the old socket's
// port, never taken for the second one's). -timeout: the wait for each answer (10s; over UDP 1s).
// Exits 1 when an answer differs from what was sent or does not come, or the connection fails.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
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
	useUDP := flag.Bool("udp", false, "send datagrams over UDP")
	timeout := flag.Duration("timeout", 0, "the wait for each answer (0: 10s; over UDP 1s)")
	caFile := flag.String("ca", "",
		"with -tls: the PEM file the server's certificate is checked against")
	useHex := flag.Bool("hex", false, "TEXTs are hex, answers are printed in hex")
	fill := flag.Int("fill", -1, "then echo this many bytes of 'x'")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr,
			"usage: example [-tls] [-ca FILE] [-udp] [-timeout D] [-hex] [-fill N] HOST PORT [TEXT...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	args := flag.Args()
	if len(args) < 2 || (*useTLS && *useUDP) || *timeout < 0 {
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

	opts := avant.Options{Timeout: *timeout}
	if *useUDP && opts.Timeout == 0 {
		opts.Timeout = time.Second
	}
	// Over UDP a datagram that is not a package is reported, and the client goes on.
	opts.OnError = func(err error) { fmt.Fprintf(os.Stderr, "example: %s: %v\n", addr, err) }
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

	dial := func() *avant.Client {
		var client *avant.Client
		var err error
		if *useUDP {
			client, err = avant.DialUDP(addr, opts)
		} else {
			client, err = avant.Dial(addr, opts)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "example: %s: %v\n", addr, err)
			os.Exit(1)
		}
		return client
	}
	client := dial()
	defer func() { client.Close() }()
	status := 0
	for _, m := range messages {
		started := time.Now()
		answer, err := client.Echo(m)
		if *useUDP && errors.Is(err, os.ErrDeadlineExceeded) {
			// The timeout closed the client: once more from a new one.
			fmt.Fprintf(os.Stderr, "example: %s: the echo of %d bytes: %v; once more\n", addr,
				len(m), err)
			client = dial()
			answer, err = client.Echo(m)
		}
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
