// Command ferretdb runs FerretDB v1 (the MongoDB-wire server for local runs and tests)
// embedded through its public package, with the SQLite handler: no PostgreSQL needed.
//
// Embedding instead of `go install .../cmd/ferretdb` avoids its start-up panic: that
// command requires build/version/version.txt, which is absent from the Go module.
//
// FerretDB v1's SQLite handler applies an update as "query, modify in Go, write back"
// without holding the document (FerretDB/FerretDB#3040), so concurrent updates of one
// document can be lost and two guarded findAndModify calls can both "win". MongoDB
// applies each single-document update atomically, and our services depend on that. So
// FerretDB listens on a Unix socket only, and clients reach it through the small proxy
// below, which lets reads run together but runs each write command alone. The proxy
// understands just enough of the wire protocol to find message boundaries and the
// command name; it never changes a byte.
//
// SQLite's own automatic checkpoint cannot finish while readers keep arriving, and a
// running service reads all the time, so each database's write-ahead log would grow
// without end and every read would search it. So, every `-checkpoint-every`, the proxy
// takes the write lock exclusively (no command in flight) and folds each log back into
// its database, truncating it.
package main

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	_ "modernc.org/sqlite" // the driver FerretDB itself uses, for checkpoints
)

const (
	opQuery      = 2004
	opMsg        = 2013
	moreToCome   = 1 << 1
	maxMessage   = 48 << 20
	headerLength = 16
)

// Commands that only read; anything else (including unknown commands) runs exclusively.
var readOnly = map[string]bool{
	"find": true, "aggregate": true, "count": true, "distinct": true, "getMore": true,
	"killCursors": true, "listCollections": true, "listDatabases": true, "listIndexes": true,
	"ping": true, "hello": true, "isMaster": true, "ismaster": true, "buildInfo": true,
	"buildinfo": true, "getParameter": true, "serverStatus": true, "dbStats": true,
	"collStats": true, "endSessions": true, "connectionStatus": true, "whatsmyuri": true,
	"getCmdLineOpts": true, "hostInfo": true, "explain": true, "saslStart": true,
	"saslContinue": true, "getLog": true, "dataSize": true,
}

var writes sync.RWMutex

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("sqlite-dir", "var/ferretdb", "existing directory for SQLite files, one per database")
	postgres := flag.String("postgresql-url", "", "use the PostgreSQL handler with this database instead of SQLite")
	exclusive := flag.Bool("exclusive-writes", true, "run each write command alone (false only to test whether a handler needs it)")
	checkpointEvery := flag.Duration("checkpoint-every", time.Minute, "fold each SQLite write-ahead log back into its database this often (0: never)")
	flag.Parse()

	if err := os.MkdirAll(*dir, 0o700); err != nil {
		log.Fatal(err)
	}
	absDir, err := filepath.Abs(*dir)
	if err != nil {
		log.Fatal(err)
	}
	socket := filepath.Join(absDir, "ferretdb.sock")
	_ = os.Remove(socket)

	config := &ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: socket},
		Handler:   "sqlite",
		SQLiteURL: "file:" + absDir + "/",
	}
	// PostgreSQL pushes equality filters down to the database (SQLite only `_id`): the
	// choice for benchmarks with many documents (tests/load/README.md).
	if *postgres != "" {
		config.Handler = "postgresql"
		config.PostgreSQLURL = *postgres
		config.SQLiteURL = ""
	}
	f, err := ferretdb.New(config)
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go f.Run(ctx)
	if config.Handler == "sqlite" && *checkpointEvery > 0 {
		go checkpoints(ctx, absDir, *checkpointEvery)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	log.Printf("FerretDB listening on %s (writes serialised), data in %s", *listen, absDir)
	for {
		client, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Printf("accept: %v", err)
			continue
		}
		go serve(client, socket, *exclusive)
	}
}

// serve relays one client connection to its own backend connection, message by message.
func serve(client net.Conn, socket string, exclusive bool) {
	defer client.Close()
	backend, err := net.Dial("unix", socket)
	if err != nil {
		log.Printf("backend: %v", err)
		return
	}
	defer backend.Close()
	for {
		request, err := readMessage(client)
		if err != nil {
			return
		}
		if err := exchange(request, backend, client, exclusive); err != nil {
			if !errors.Is(err, io.EOF) {
				log.Printf("relay: %v", err)
			}
			return
		}
	}
}

// exchange forwards one request and its response(s) while holding the right lock.
func exchange(request []byte, backend, client net.Conn, exclusive bool) error {
	switch {
	case !exclusive:
	case isWrite(request):
		writes.Lock()
		defer writes.Unlock()
	default:
		writes.RLock()
		defer writes.RUnlock()
	}
	if _, err := backend.Write(request); err != nil {
		return err
	}
	if expectsNoReply(request) {
		return nil
	}
	for {
		response, err := readMessage(backend)
		if err != nil {
			return err
		}
		if _, err := client.Write(response); err != nil {
			return err
		}
		if !expectsNoReply(response) { // an exhaust stream ends with a reply lacking moreToCome
			return nil
		}
	}
}

func readMessage(r io.Reader) ([]byte, error) {
	header := make([]byte, headerLength)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, err
	}
	length := int(binary.LittleEndian.Uint32(header))
	if length < headerLength || length > maxMessage {
		return nil, errors.New("bad message length")
	}
	message := make([]byte, length)
	copy(message, header)
	if _, err := io.ReadFull(r, message[headerLength:]); err != nil {
		return nil, err
	}
	return message, nil
}

func opCode(message []byte) uint32 {
	return binary.LittleEndian.Uint32(message[12:16])
}

func expectsNoReply(message []byte) bool {
	return opCode(message) == opMsg && len(message) >= 20 &&
		binary.LittleEndian.Uint32(message[16:20])&moreToCome != 0
}

// isWrite reads the command name: OP_MSG, flag bits, section kind 0, then a BSON
// document whose first element's key is the command.
func isWrite(message []byte) bool {
	if opCode(message) == opQuery {
		return false // legacy handshake only
	}
	if opCode(message) != opMsg || len(message) < 27 || message[20] != 0 {
		return true
	}
	body := message[21:]
	// body: int32 document length, element type byte, then the key as a C string.
	key := body[5:]
	for i, b := range key {
		if b == 0 {
			return !readOnly[string(key[:i])]
		}
	}
	return true
}

// checkpoints truncates every database's write-ahead log each `every`, between commands.
func checkpoints(ctx context.Context, dir string, every time.Duration) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		files, err := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		if err != nil {
			log.Printf("checkpoint: %v", err)
			continue
		}
		writes.Lock()
		for _, file := range files {
			if err := checkpoint(file); err != nil {
				log.Printf("checkpoint %s: %v", filepath.Base(file), err)
			}
		}
		writes.Unlock()
	}
}

// checkpoint copies a database's log into it and truncates the log. A reader still
// holding a snapshot (a cursor not yet drained) makes it give up quickly: the next round
// tries again, and writes are not held up meanwhile.
func checkpoint(file string) error {
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(100)")
	if err != nil {
		return err
	}
	defer db.Close()
	var busy, logged, copied int
	if err := db.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &copied); err != nil {
		return err
	}
	if busy != 0 {
		return fmt.Errorf("busy, %d of %d pages copied; next round", copied, logged)
	}
	return nil
}
