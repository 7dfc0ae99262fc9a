// Package avant is a Go client for Avant's ProtoPackages on a TCP stream, plain or over TLS
// (task_type = STREAM_TASK), and in UDP datagrams (server.other_udp_svr_port).
//
//	c, err := avant.Dial("127.0.0.1:20023", avant.Options{})   // Options{TLS: cfg} for TLS
//	c, err := avant.DialUDP("127.0.0.1:20025", avant.Options{}) // or over UDP (datagram.go)
//	answer, err := c.Echo([]byte("hello"))                       // the echo example
//	c.Close()
//
// The messages are Go code that protoc-gen-go generates from proto/avant.proto at build time
// (clients/go/build.sh), never committed. A Client is synchronous and is used by one goroutine
// at a time: Send writes one frame (over UDP one datagram), Receive reads the next package,
// Request does both.
package avant

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"google.golang.org/protobuf/proto"

	pb "avantgo/avantpb"
)

// Options of a connection; the zero value is plain TCP with the default limit and timeout.
type Options struct {
	TLS      *tls.Config   // non-nil: TLS, checked against this configuration
	MaxFrame int           // the largest body accepted from the server; 0: MaxFrame
	Timeout  time.Duration // for the connect, each write and each wait for a package; 0: 10 s
	// OnPackage, when set, sees every package received, the answers Request returns included.
	OnPackage func(*pb.ProtoPackage)
	// OnError, when set, sees every datagram that is not a package (a *DatagramError; UDP only:
	// the client goes on), those Receive returns included.
	OnError func(error)
}

// ErrClosed is what a Client returns once its connection is closed, by either side.
var ErrClosed = errors.New("connection closed")

// A Client is one connection to an Avant server.
type Client struct {
	conn    net.Conn
	opts    Options
	decoder *Decoder
	buf     []byte             // what one read fills: 64 KiB, more than any datagram
	queue   []*pb.ProtoPackage // received, not yet returned by Receive
	out     []byte             // the frame being written, reused
	err     error              // set once: every later call returns it
	// datagrams: each read and each write is one whole package, with no frame (UDP).
	datagrams bool
}

// Dial connects to addr ("host:port").
func Dial(addr string, opts Options) (*Client, error) {
	opts = defaults(opts)
	dialer := &net.Dialer{Timeout: opts.Timeout}
	var conn net.Conn
	var err error
	if opts.TLS != nil {
		conn, err = tls.DialWithDialer(dialer, "tcp", addr, opts.TLS)
	} else {
		conn, err = dialer.Dial("tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	return NewClient(conn, opts), nil
}

// NewClient speaks the protocol on a connection made elsewhere (a Unix socket, a test's pipe, a
// dialer of one's own); opts.TLS is not used. The Client owns conn from then on.
func NewClient(conn net.Conn, opts Options) *Client {
	opts = defaults(opts)
	return &Client{conn: conn, opts: opts, decoder: NewDecoder(opts.MaxFrame),
		buf: make([]byte, 64*1024)}
}

func defaults(opts Options) Options {
	if opts.MaxFrame == 0 {
		opts.MaxFrame = MaxFrame
	}
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	return opts
}

// Send writes one package: message m under command cmd. The server's limit (10240 bytes by
// default) is the server's to enforce: a larger package makes it close the connection. Over UDP
// the package is one datagram, and one over MaxDatagram is refused before anything is sent (the
// Client stays open).
func (c *Client) Send(cmd pb.ProtoCmd, m proto.Message) error {
	if c.err != nil {
		return c.err
	}
	inner, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	body, err := proto.Marshal(&pb.ProtoPackage{Cmd: cmd, Protocol: inner})
	if err != nil {
		return err
	}
	switch {
	case !c.datagrams:
		c.out = AppendFrame(c.out[:0], body)
	case len(body) == 0:
		c.out = emptyPackage
	case len(body) > MaxDatagram:
		return fmt.Errorf("a package of %d bytes is over the largest datagram, %d", len(body),
			MaxDatagram)
	default:
		c.out = body
	}
	if err := c.conn.SetWriteDeadline(time.Now().Add(c.opts.Timeout)); err != nil {
		return c.fail(fmt.Errorf("%w: %v", ErrClosed, err)) // a closed connection refuses deadlines
	}
	if _, err := c.conn.Write(c.out); err != nil {
		// A write that fails means the connection is gone, whoever closed it (a pipe's closed
		// peer fails the write before a read could see EOF): ErrClosed, as a read would say.
		return c.fail(fmt.Errorf("%w: %v", ErrClosed, err))
	}
	return nil
}

// Receive returns the next package from the server, waiting at most the timeout for it. Over
// UDP a datagram that is not a package is returned as a *DatagramError, and the Client stays open.
func (c *Client) Receive() (*pb.ProtoPackage, error) {
	for len(c.queue) == 0 {
		if c.err != nil {
			return nil, c.err
		}
		if err := c.conn.SetReadDeadline(time.Now().Add(c.opts.Timeout)); err != nil {
			// A closed connection refuses deadlines (net.Pipe, once its peer closed): the read
			// would have said EOF.
			return nil, c.fail(fmt.Errorf("%w: %v", ErrClosed, err))
		}
		n, err := c.conn.Read(c.buf)
		if c.datagrams {
			if err == nil {
				// One read, one whole datagram. Zero bytes are a datagram too: the package of
				// command 0 with nothing in it.
				if derr := c.datagram(c.buf[:n]); derr != nil {
					return nil, derr
				}
				continue
			}
		} else if n > 0 {
			// The bytes that came with an error are frames too: handled first.
			bodies, ferr := c.decoder.Feed(c.buf[:n])
			for _, body := range bodies {
				p := &pb.ProtoPackage{}
				// Unmarshal copies the bytes it keeps: the body's storage may be reused.
				if perr := proto.Unmarshal(body, p); perr != nil {
					return nil, c.fail(fmt.Errorf("not a ProtoPackage: %w", perr))
				}
				if c.opts.OnPackage != nil {
					c.opts.OnPackage(p)
				}
				c.queue = append(c.queue, p)
			}
			if ferr != nil {
				c.fail(ferr)
				break
			}
		}
		var timeout net.Error
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			c.fail(fmt.Errorf("%w by the server", ErrClosed))
		case errors.As(err, &timeout) && timeout.Timeout():
			// The connection is fine, the server is silent: the caller may wait again.
			if len(c.queue) == 0 {
				return nil, fmt.Errorf("no package within %v: %w", c.opts.Timeout, err)
			}
		default:
			c.fail(fmt.Errorf("%w: %v", ErrClosed, err))
		}
	}
	if len(c.queue) == 0 {
		return nil, c.err
	}
	p := c.queue[0]
	c.queue = c.queue[1:]
	return p, nil
}

// Request sends m under cmd and waits for the next package of command answerCmd, whose message
// it parses into answer. Packages of other commands that come first are skipped (OnPackage sees
// them), and so are datagrams that are not packages (OnError sees them). The protocol carries no
// request id: a server that answers a connection's packages in order, as Avant does, answers this
// request with the first such package. A failure, a timeout included, closes the connection: an
// answer that came late could not be told from the answer to the next request. Over UDP, where a
// request or its answer may be lost, a new Client (DialUDP again: another port, where the late
// answer never arrives) may ask again; errors.Is(err, os.ErrDeadlineExceeded) says a timeout.
func (c *Client) Request(cmd pb.ProtoCmd, m proto.Message, answerCmd pb.ProtoCmd,
	answer proto.Message) error {
	if err := c.Send(cmd, m); err != nil {
		return err
	}
	for {
		p, err := c.Receive()
		var notAPackage *DatagramError
		if errors.As(err, &notAPackage) {
			continue
		}
		if err != nil {
			return c.fail(err)
		}
		if p.GetCmd() == answerCmd {
			return proto.Unmarshal(p.GetProtocol(), answer)
		}
	}
}

// Echo is the echo example: it sends testContext (any bytes, NUL included) with
// PROTO_CMD_CS_REQ_EXAMPLE and returns the testContext of the PROTO_CMD_CS_RES_EXAMPLE answer.
func (c *Client) Echo(testContext []byte) ([]byte, error) {
	var res pb.ProtoCSResExample
	err := c.Request(pb.ProtoCmd_PROTO_CMD_CS_REQ_EXAMPLE,
		&pb.ProtoCSReqExample{TestContext: testContext},
		pb.ProtoCmd_PROTO_CMD_CS_RES_EXAMPLE, &res)
	if err != nil {
		return nil, err
	}
	return res.GetTestContext(), nil
}

// Close closes the connection. Later calls return ErrClosed.
func (c *Client) Close() error {
	if c.err != nil {
		return nil // closed already, by a failure or by Close
	}
	c.err = ErrClosed
	return c.conn.Close()
}

// datagram takes one datagram: a package is queued, anything else is a *DatagramError.
func (c *Client) datagram(d []byte) error {
	p := &pb.ProtoPackage{}
	if err := proto.Unmarshal(d, p); err != nil {
		derr := &DatagramError{Length: len(d), Err: err}
		if c.opts.OnError != nil {
			c.opts.OnError(derr)
		}
		return derr
	}
	if c.opts.OnPackage != nil {
		c.opts.OnPackage(p)
	}
	c.queue = append(c.queue, p)
	return nil
}

// fail closes the connection on the first failure and keeps that failure for every later call.
func (c *Client) fail(err error) error {
	if c.err == nil {
		c.err = err
		c.conn.Close()
	}
	return c.err
}
