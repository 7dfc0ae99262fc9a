// frame.go — the stream framing, sans IO: an 8-byte big-endian length, then that many bytes of a
// serialized ProtoPackage (docs/original-avant.md, "Frames on the wire").

package avant

import (
	"encoding/binary"
	"fmt"
)

// MaxFrame is the server's default limit on a frame's body, and the client's on what it accepts.
const MaxFrame = 10240

// headSize is the length prefix: a uint64, big-endian, counting the body only.
const headSize = 8

// FrameError is a frame the decoder refuses: its connection is to be closed.
type FrameError struct {
	Length uint64
	Limit  uint64
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("a frame of %d bytes is over the limit of %d", e.Length, e.Limit)
}

// A Decoder turns the bytes of a stream into frame bodies, however the bytes were cut. The limit
// is checked on the head alone: a peer's length is untrusted, and is refused before one byte of
// its body is kept. A decoder that failed stays failed.
type Decoder struct {
	limit   uint64
	pending []byte // the start of a frame that has not arrived whole
	err     error
}

// NewDecoder makes a decoder that refuses bodies over limit bytes.
func NewDecoder(limit int) *Decoder {
	return &Decoder{limit: uint64(limit)}
}

// Feed takes the next bytes of the stream and returns the bodies of the frames they complete, in
// order. A body is a view of chunk or of the decoder's own storage: it is valid until the next
// call of Feed, so a caller that keeps it copies it (proto.Unmarshal does).
func (d *Decoder) Feed(chunk []byte) ([][]byte, error) {
	if d.err != nil {
		return nil, d.err
	}
	data := chunk
	if len(d.pending) > 0 {
		// Only an incomplete frame is kept between reads, at most 8 + limit bytes, so this copy is
		// bounded; a read of whole frames is not copied at all.
		d.pending = append(d.pending, chunk...)
		data = d.pending
	}
	var bodies [][]byte
	at := 0
	for len(data)-at >= headSize {
		length := binary.BigEndian.Uint64(data[at:])
		// Compared as uint64: 2^63 and 2^64-1 are lengths over the limit, never negative or
		// wrapped sizes.
		if length > d.limit {
			d.err = &FrameError{Length: length, Limit: d.limit}
			d.pending = nil
			return bodies, d.err
		}
		end := at + headSize + int(length)
		if end > len(data) {
			break
		}
		bodies = append(bodies, data[at+headSize:end:end])
		at = end
	}
	rest := data[at:]
	if len(bodies) > 0 || len(d.pending) == 0 {
		// The bodies may be views of the old storage, which must stay as it is until the next
		// Feed: the rest goes to new storage.
		d.pending = append([]byte(nil), rest...)
	}
	return bodies, nil
}

// AppendFrame appends the frame of body to out: its length, big-endian on 8 bytes, then body.
func AppendFrame(out, body []byte) []byte {
	out = binary.BigEndian.AppendUint64(out, uint64(len(body)))
	return append(out, body...)
}
