package litellmimport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// LiteLLM's tables, as its schema.prisma names them (Prisma quotes the
// mixed-case names in PostgreSQL).
const (
	TeamTable  = "LiteLLM_TeamTable"
	KeyTable   = "LiteLLM_VerificationToken"
	ModelTable = "LiteLLM_ProxyModelTable"
	// AliasTable holds a team's model aliases (LiteLLM_TeamTable.model_id
	// points at its id; the column "aliases").
	AliasTable = "LiteLLM_ModelTable"
)

// notCarried are LiteLLM's tables the import does not read: what they
// hold has no counterpart in teams.d / models.d. Their row counts go to
// the report.
var notCarried = []struct{ table, what string }{
	{"LiteLLM_SpendLogs", "spend history (per-request logs)"},
	{"LiteLLM_DailyUserSpend", "daily spend rollups"},
	{"LiteLLM_UserTable", "users (their ids stay on keys and team members)"},
	{"LiteLLM_OrganizationTable", "organisations (a team keeps its organization_id)"},
	{"LiteLLM_OrganizationMembership", "organisation memberships"},
	{"LiteLLM_BudgetTable", "budgets tables (per-member and linked budgets)"},
	{"LiteLLM_TeamMembership", "per-member team budgets and spend"},
	{"LiteLLM_EndUserTable", "end users (customers)"},
	{"LiteLLM_TagTable", "tag budgets"},
	{"LiteLLM_CredentialsTable", "reusable credentials (litellm_credential_name)"},
	{"LiteLLM_ObjectPermissionTable", "object permissions (MCP servers, vector stores, agents)"},
	{"LiteLLM_ProjectTable", "projects"},
	{"LiteLLM_MCPServerTable", "MCP servers"},
	{"LiteLLM_AgentsTable", "agents"},
}

// Dump is what the import reads from a LiteLLM database: each row of the
// team, key and model tables as a JSON object (PostgreSQL's row_to_json,
// so any LiteLLM version's columns come through), the alias rows by id,
// and the row counts of the tables it does not carry over.
type Dump struct {
	Teams, Keys, Models []json.RawMessage
	// Aliases are LiteLLM_ModelTable's "aliases" by id.
	Aliases map[int64]json.RawMessage
	// Skipped are table name -> rows, for tables not carried over that
	// hold rows.
	Skipped map[string]int64
}

// Read reads a LiteLLM database. databaseURL is a postgres:// URL as
// LiteLLM's DATABASE_URL gives it; Prisma's ?schema=NAME is honoured (as
// the search path).
func Read(ctx context.Context, databaseURL string) (*Dump, error) {
	cfg, err := connConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the LiteLLM database: %s", pgError(err))
	}
	defer conn.Close(context.Background())
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return nil, fmt.Errorf("reading the LiteLLM database: %s", pgError(err))
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	d := &Dump{Aliases: map[int64]json.RawMessage{}, Skipped: map[string]int64{}}
	for _, t := range []struct {
		table, order string
		dst          *[]json.RawMessage
	}{{TeamTable, "team_id", &d.Teams}, {KeyTable, "token", &d.Keys}, {ModelTable, "model_id", &d.Models}} {
		rows, err := readRows(ctx, tx, t.table, t.order)
		if err != nil {
			return nil, err
		}
		*t.dst = rows
	}
	if exists, err := tableExists(ctx, tx, AliasTable); err != nil {
		return nil, err
	} else if exists {
		rows, err := tx.Query(ctx, `SELECT id, aliases::text FROM "`+AliasTable+`" WHERE aliases IS NOT NULL`)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %s", AliasTable, pgError(err))
		}
		for rows.Next() {
			var id int64
			var a string
			if err := rows.Scan(&id, &a); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading %s: %s", AliasTable, pgError(err))
			}
			d.Aliases[id] = json.RawMessage(a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("reading %s: %s", AliasTable, pgError(err))
		}
	}
	for _, n := range notCarried {
		exists, err := tableExists(ctx, tx, n.table)
		if err != nil {
			return nil, err
		}
		if !exists {
			continue
		}
		var count int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM "`+n.table+`"`).Scan(&count); err != nil {
			return nil, fmt.Errorf("counting %s: %s", n.table, pgError(err))
		}
		if count > 0 {
			d.Skipped[n.table] = count
		}
	}
	return d, nil
}

func readRows(ctx context.Context, tx pgx.Tx, table, order string) ([]json.RawMessage, error) {
	exists, err := tableExists(ctx, tx, table)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("the database has no table %q: is --database-url LiteLLM's database (DATABASE_URL of the LiteLLM proxy, with its ?schema= if it sets one), and has LiteLLM created its tables?", table)
	}
	rows, err := tx.Query(ctx, `SELECT row_to_json(t)::text FROM "`+table+`" t ORDER BY t."`+order+`"`)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %s", table, pgError(err))
	}
	defer rows.Close()
	var out []json.RawMessage
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("reading %s: %s", table, pgError(err))
		}
		out = append(out, json.RawMessage(s))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %s", table, pgError(err))
	}
	return out, nil
}

func tableExists(ctx context.Context, tx pgx.Tx, table string) (bool, error) {
	var ok bool
	// to_regclass resolves the quoted name on the search path.
	if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, `"`+table+`"`).Scan(&ok); err != nil {
		return false, fmt.Errorf("looking for table %s: %s", table, pgError(err))
	}
	return ok, nil
}

// connConfig parses the URL, turning Prisma's ?schema=NAME (which
// PostgreSQL does not know) into the search path. Errors never quote the
// URL (it holds a password).
func connConfig(databaseURL string) (*pgx.ConnConfig, error) {
	if !strings.HasPrefix(databaseURL, "postgres://") && !strings.HasPrefix(databaseURL, "postgresql://") {
		return nil, errors.New("--database-url must be a postgres:// or postgresql:// URL (LiteLLM's DATABASE_URL)")
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return nil, errors.New("--database-url is not a valid URL; write postgres://USER:PASSWORD@HOST:PORT/DATABASE")
	}
	q := u.Query()
	schema := q.Get("schema")
	q.Del("schema")
	u.RawQuery = q.Encode()
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, errors.New("--database-url cannot be parsed as a PostgreSQL connection URL; write postgres://USER:PASSWORD@HOST:PORT/DATABASE")
	}
	if schema != "" {
		cfg.RuntimeParams["search_path"] = schema
	}
	return cfg, nil
}

// pgError is err without anything that could hold the URL's password:
// the server's message for a server error, the error text otherwise
// (pgx never prints the password).
func pgError(err error) string {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Severity + ": " + pe.Message + " (" + pe.Code + ")"
	}
	return err.Error()
}
