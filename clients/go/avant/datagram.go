// datagram.go — the same Client over UDP (chapter 08): one datagram is one ProtoPackage, with no
// length before it, and there is no connection.

package avant

import (
	"errors"
	"fmt"
	"net"
)

// MaxDatagram is the largest UDP payload over IPv4 (65535 less the IP and UDP heads): a package
// sent over UDP must fit in one datagram.
const MaxDatagram = 65507

// emptyPackage is a package whose encoding is empty (command 0 with nothing in it, the echo of an
// empty testContext) with its empty protocol written out: the same package, in two bytes, since a
// datagram of zero bytes is dropped by the server, as by many.
var emptyPackage = []byte{0x12, 0x00}

// DatagramError is a datagram that is not a ProtoPackage. Over UDP it costs that datagram only,
// not the stream after it: the Client stays open, Receive returns the error, Request skips it.
type DatagramError struct {
	Length int   // the datagram's size
	Err    error // what the parser said
}

func (e *DatagramError) Error() string {
	return fmt.Sprintf("a datagram of %d bytes is not a ProtoPackage: %v", e.Length, e.Err)
}

func (e *DatagramError) Unwrap() error { return e.Err }

// DialUDP makes a Client of a UDP socket connected to addr ("host:port"): connected, so that the
// kernel hands it the server's datagrams only, and an ICMP "port unreachable" comes back as
// "connection refused", which closes the Client (no server is there). Nothing is sent until the
// first request; opts.TLS must be nil and opts.MaxFrame is not used (the limit is MaxDatagram).
// UDP delivers nothing for sure and in no promised order: see Request about timeouts.
func DialUDP(addr string, opts Options) (*Client, error) {
	if opts.TLS != nil {
		return nil, errors.New("avant: no TLS over UDP")
	}
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return nil, err
	}
	return NewDatagramClient(conn, opts), nil
}

// NewDatagramClient speaks the protocol on a connection made elsewhere whose reads and writes are
// whole datagrams (a connected *net.UDPConn, a Unix datagram socket, a test's pipe written one
// datagram at a time). The Client owns conn from then on.
func NewDatagramClient(conn net.Conn, opts Options) *Client {
	c := NewClient(conn, opts)
	c.datagrams = true
	return c
}
