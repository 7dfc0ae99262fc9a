// frame_test.go — the Decoder and AppendFrame on byte arrays: no socket, no timing.

package avant

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "avantgo/avantpb"
)

// docs/original-avant.md, "The echo example, byte by byte".
const echoRequest = "000000000000000c120a0a086161616161616161"
const echoAnswer = "000000000000000e0801120a0a086161616161616161"

var bodies = [][]byte{{0x08, 0x01}, {}, bytes.Repeat([]byte{7}, 300), {0, 0, 0, 0, 0, 0, 0, 9}}

func stream() []byte {
	var out []byte
	for _, b := range bodies {
		out = AppendFrame(out, b)
	}
	return out
}

// feed gives the decoder each piece and copies the bodies out (they are views until the next Feed).
func feed(t *testing.T, d *Decoder, pieces ...[]byte) [][]byte {
	t.Helper()
	var out [][]byte
	for _, p := range pieces {
		got, err := d.Feed(p)
		if err != nil {
			t.Fatalf("Feed: %v", err)
		}
		for _, b := range got {
			out = append(out, append([]byte{}, b...))
		}
	}
	return out
}

func same(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestManyFramesInOneChunkComeOutInOrder(t *testing.T) {
	if got := feed(t, NewDecoder(MaxFrame), stream()); !same(got, bodies) {
		t.Fatalf("got %x, want %x", got, bodies)
	}
}

func TestTheSameFramesAtEveryCutAndByteByByte(t *testing.T) {
	s := stream()
	for cut := 0; cut <= len(s); cut++ {
		// A copy per piece: the decoder must not keep a view of a buffer the caller reuses.
		first, second := append([]byte{}, s[:cut]...), append([]byte{}, s[cut:]...)
		if got := feed(t, NewDecoder(MaxFrame), first, second); !same(got, bodies) {
			t.Fatalf("cut at %d: got %x", cut, got)
		}
	}
	d := NewDecoder(MaxFrame)
	var got [][]byte
	one := make([]byte, 1)
	for _, b := range s {
		one[0] = b // the same buffer every time, as a read loop does
		got = append(got, feed(t, d, one)...)
	}
	if !same(got, bodies) {
		t.Fatalf("byte by byte: got %x", got)
	}
}

func TestTheLimitPassesAndOneByteMoreIsRefusedOnTheHeadAlone(t *testing.T) {
	full := AppendFrame(nil, make([]byte, MaxFrame))
	if got := feed(t, NewDecoder(MaxFrame), full); len(got) != 1 || len(got[0]) != MaxFrame {
		t.Fatalf("a frame of exactly the limit: %d bodies", len(got))
	}
	for _, length := range []uint64{MaxFrame + 1, 1 << 63, 1<<64 - 1} {
		d := NewDecoder(MaxFrame)
		head := binary.BigEndian.AppendUint64(nil, length)
		_, err := d.Feed(head)
		var frameErr *FrameError
		if !errors.As(err, &frameErr) || frameErr.Length != length {
			t.Fatalf("a head of %d: %v", length, err)
		}
		if _, again := d.Feed(AppendFrame(nil, []byte{8, 1})); again != err {
			t.Fatalf("a failed decoder takes frames again: %v", again)
		}
	}
}

func TestTheEchoExampleIsTheOriginalsBytesBothWays(t *testing.T) {
	inner, _ := proto.Marshal(&pb.ProtoCSReqExample{TestContext: []byte("aaaaaaaa")})
	body, _ := proto.Marshal(&pb.ProtoPackage{Cmd: pb.ProtoCmd_PROTO_CMD_CS_REQ_EXAMPLE,
		Protocol: inner})
	if got := hex.EncodeToString(AppendFrame(nil, body)); got != echoRequest {
		t.Fatalf("request %s, want %s", got, echoRequest)
	}
	answer, _ := hex.DecodeString(echoAnswer)
	got := feed(t, NewDecoder(MaxFrame), answer)
	var p pb.ProtoPackage
	var res pb.ProtoCSResExample
	if len(got) != 1 || proto.Unmarshal(got[0], &p) != nil ||
		p.GetCmd() != pb.ProtoCmd_PROTO_CMD_CS_RES_EXAMPLE ||
		proto.Unmarshal(p.GetProtocol(), &res) != nil || string(res.GetTestContext()) != "aaaaaaaa" {
		t.Fatalf("the answer decodes as %v, %v", &p, &res)
	}
}
