package sqlite

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"

	"github.com/llmgateway/gateway/usage"
	"modernc.org/sqlite" // registers the "sqlite" database/sql driver (pure Go)
)

// histAdd is the SQL function adding two encoded latency histograms.
const histAdd = "gateway_usage_hist_add"

func init() {
	sqlite.MustRegisterDeterministicScalarFunction(histAdd, 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		var h usage.Hist
		for _, a := range args {
			switch b := a.(type) {
			case nil:
			case []byte:
				if err := h.AddEncoded(b); err != nil {
					return nil, err
				}
			case string:
				if err := h.AddEncoded([]byte(b)); err != nil {
					return nil, err
				}
			default:
				return nil, errors.New(histAdd + ": not a histogram")
			}
		}
		return h.AppendEncoded([]byte{}), nil
	})
}

// openDB opens path with the pragmas every connection needs: WAL, the
// busy timeout, full sync on commit (a kill or a power cut loses no
// committed batch), and BEGIN IMMEDIATE for write transactions so two
// writers wait on the busy timeout instead of failing on upgrade.
func openDB(path string, readOnly bool) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.Itoa(int(BusyTimeout.Milliseconds()))+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening: %w", err)
	}
	return db, nil
}
