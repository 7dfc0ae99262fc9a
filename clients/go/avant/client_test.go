// client_test.go — the Client's read loop over an in-memory connection (net.Pipe) whose other end
// the test writes by hand: no server, no port, and every wait bounded by the client's timeout.

package avant

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "avantgo/avantpb"
)

func answerFrame(t *testing.T, testContext []byte) []byte {
	t.Helper()
	inner, err := proto.Marshal(&pb.ProtoCSResExample{TestContext: testContext})
	if err != nil {
		t.Fatal(err)
	}
	body, err := proto.Marshal(&pb.ProtoPackage{Cmd: pb.ProtoCmd_PROTO_CMD_CS_RES_EXAMPLE,
		Protocol: inner})
	if err != nil {
		t.Fatal(err)
	}
	return AppendFrame(nil, body)
}

// peer is the server's end: it reads the client's frames and writes what the test says, in the
// pieces the test says. It ends when the client's end is closed.
func peer(server net.Conn, pieces ...[]byte) {
	go func() {
		for _, p := range pieces {
			if _, err := server.Write(p); err != nil {
				return
			}
		}
	}()
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := server.Read(buf); err != nil {
				return
			}
		}
	}()
}

func TestAnswersInOneWriteAndAnAnswerCutInTwoAreEachRead(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	var seen []pb.ProtoCmd
	c := NewClient(client, Options{Timeout: 5 * time.Second,
		OnPackage: func(p *pb.ProtoPackage) { seen = append(seen, p.GetCmd()) }})
	defer c.Close()
	nul := []byte("a\x00b")
	three := append(append(answerFrame(t, []byte("one")), answerFrame(t, []byte("two"))...),
		answerFrame(t, nul)...)
	cut := answerFrame(t, bytes.Repeat([]byte("z"), 300))
	peer(server, three, cut[:5], cut[5:])
	wants := [][]byte{[]byte("one"), []byte("two"), nul, bytes.Repeat([]byte("z"), 300)}
	for _, want := range wants {
		got, err := c.Echo(want)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Echo(%q) = %q, %v", want, got, err)
		}
	}
	if len(seen) != 4 {
		t.Fatalf("OnPackage saw %v", seen)
	}
}

func TestAFrameOverTheLimitClosesTheConnection(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	c := NewClient(client, Options{Timeout: 5 * time.Second})
	peer(server, AppendFrame(nil, make([]byte, MaxFrame+1)))
	var frameErr *FrameError
	if _, err := c.Echo([]byte("x")); !errors.As(err, &frameErr) {
		t.Fatalf("a frame over the limit: %v", err)
	}
	if _, err := c.Echo([]byte("x")); !errors.As(err, &frameErr) {
		t.Fatalf("the client is used after its failure: %v", err)
	}
}

func TestARequestThatTimesOutClosesTheConnection(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	c := NewClient(client, Options{Timeout: 200 * time.Millisecond})
	peer(server) // reads, never answers
	_, err := c.Echo([]byte("x"))
	if err == nil || !strings.Contains(err.Error(), "no package within") {
		t.Fatalf("no answer: %v", err)
	}
	// A late answer could be taken for the next request's: the client is closed instead.
	if _, again := c.Echo([]byte("y")); again != err {
		t.Fatalf("after a timeout: %v", again)
	}
}

func TestTheServersCloseIsErrClosed(t *testing.T) {
	client, server := net.Pipe()
	c := NewClient(client, Options{Timeout: 5 * time.Second})
	go func() {
		buf := make([]byte, 64)
		_, _ = server.Read(buf) // the request, then the server goes away
		server.Close()
	}()
	if _, err := c.Echo([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("after the server's close: %v", err)
	}
}
