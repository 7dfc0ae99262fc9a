// datagram_test.go — the Client over datagrams (DialUDP's mode) on an in-memory connection
// (net.Pipe: each write is read whole by one read of a buffer as large, as a datagram is), whose
// other end the test reads and writes by hand: no server, no port.

package avant

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "avantgo/avantpb"
)

// answerDatagram is the echo example's answer: a package, no frame. Used by the peers'
// goroutines, where a test may not stop: these messages always marshal.
func answerDatagram(testContext []byte) []byte {
	inner, _ := proto.Marshal(&pb.ProtoCSResExample{TestContext: testContext})
	body, _ := proto.Marshal(&pb.ProtoPackage{Cmd: pb.ProtoCmd_PROTO_CMD_CS_RES_EXAMPLE,
		Protocol: inner})
	return body
}

// datagramPeer is the server's end: for each datagram it reads, it sends what answer says, one
// write per datagram, and hands the datagram to the test. It ends when the client's end closes.
func datagramPeer(server net.Conn, answer func(request []byte) [][]byte) <-chan []byte {
	requests := make(chan []byte, 16)
	go func() {
		defer close(requests)
		buf := make([]byte, 70000)
		for {
			n, err := server.Read(buf)
			if err != nil {
				return
			}
			request := append([]byte(nil), buf[:n]...)
			requests <- request
			for _, d := range answer(request) {
				if _, err := server.Write(d); err != nil {
					return
				}
			}
		}
	}()
	return requests
}

func TestADatagramIsOnePackageWithoutAFrameAndGarbageIsSkipped(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	var errs []error
	c := NewDatagramClient(client, Options{Timeout: 5 * time.Second,
		OnError: func(err error) { errs = append(errs, err) }})
	defer c.Close()
	requests := datagramPeer(server, func(request []byte) [][]byte {
		var p pb.ProtoPackage
		var req pb.ProtoCSReqExample
		if proto.Unmarshal(request, &p) != nil || proto.Unmarshal(p.GetProtocol(), &req) != nil {
			return nil
		}
		// A datagram that is not a package first, then the answer.
		return [][]byte{{0xff, 0xff, 0xff}, answerDatagram(req.GetTestContext())}
	})
	// chapter 08: the echo example's request datagram is the stream's frame without its head.
	want := append([]byte{0x12, 0x0a, 0x0a, 0x08}, bytes.Repeat([]byte("a"), 8)...)
	for _, m := range [][]byte{[]byte("aaaaaaaa"), {}, []byte("nul\x00here")} {
		got, err := c.Echo(m)
		if err != nil || !bytes.Equal(got, m) {
			t.Fatalf("Echo(%q) = %q, %v", m, got, err)
		}
	}
	if got := <-requests; !bytes.Equal(got, want) {
		t.Fatalf("the echo example's request went as % x", got)
	}
	// An empty package goes as 12 00: a datagram of zero bytes is dropped by the server.
	if got := <-requests; !bytes.Equal(got, []byte{0x12, 0x00}) {
		t.Fatalf("the empty package went as % x", got)
	}
	var notAPackage *DatagramError
	if len(errs) != 3 || !errors.As(errs[0], &notAPackage) || notAPackage.Length != 3 {
		t.Fatalf("OnError saw %v", errs)
	}
}

func TestReceiveReturnsADatagramThatIsNotAPackageAndGoesOn(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	c := NewDatagramClient(client, Options{Timeout: 5 * time.Second})
	defer c.Close()
	go func() {
		_, _ = server.Write([]byte{0x0a}) // field 1, length-delimited, and nothing after it
		_, _ = server.Write(answerDatagram([]byte("next")))
		_, _ = server.Write(nil) // a datagram of zero bytes: the package of command 0
	}()
	var notAPackage *DatagramError
	if _, err := c.Receive(); !errors.As(err, &notAPackage) {
		t.Fatalf("a datagram that is not a package: %v", err)
	}
	p, err := c.Receive()
	if err != nil || p.GetCmd() != pb.ProtoCmd_PROTO_CMD_CS_RES_EXAMPLE {
		t.Fatalf("the package after it: %v, %v", p, err)
	}
	p, err = c.Receive()
	if err != nil || p.GetCmd() != pb.ProtoCmd_PROTO_CMD_CS_REQ_EXAMPLE {
		t.Fatalf("an empty datagram: %v, %v", p, err)
	}
}

func TestAPackageOverTheLargestDatagramIsRefusedBeforeItIsSent(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	c := NewDatagramClient(client, Options{Timeout: 5 * time.Second})
	defer c.Close()
	requests := datagramPeer(server, func(request []byte) [][]byte {
		return [][]byte{answerDatagram([]byte("small"))}
	})
	if _, err := c.Echo(make([]byte, MaxDatagram)); err == nil ||
		!strings.Contains(err.Error(), "largest datagram") {
		t.Fatalf("a package over %d bytes: %v", MaxDatagram, err)
	}
	if got, err := c.Echo([]byte("small")); err != nil || string(got) != "small" {
		t.Fatalf("the echo after the refusal: %q, %v", got, err)
	}
	if got := <-requests; len(got) > 100 {
		t.Fatalf("the package over the limit was sent: %d bytes", len(got))
	}
}

func TestAnUnansweredDatagramIsADeadlineAndClosesTheClient(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	c := NewDatagramClient(client, Options{Timeout: 200 * time.Millisecond})
	datagramPeer(server, func([]byte) [][]byte { return nil }) // reads, never answers
	_, err := c.Echo([]byte("x"))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("no answer: %v", err)
	}
	if _, again := c.Echo([]byte("y")); again != err {
		t.Fatalf("after a timeout: %v", again)
	}
}

func TestDialUDPRefusesTLS(t *testing.T) {
	if _, err := DialUDP("127.0.0.1:9", Options{TLS: &tls.Config{}}); err == nil {
		t.Fatal("DialUDP took a TLS configuration")
	}
}
