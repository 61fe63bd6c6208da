package pgspend

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/llmgateway/gateway/internal/pgtest"
	"github.com/llmgateway/gateway/spend"
)

const childEnv = "GWPG_SPEND_KILL9_CHILD_URL"

var killTeams = []string{"t1", "t2", "t3"}

// TestKill9Child is the process TestKill9 kills: each round adds 1 to
// three teams and flushes them in one transaction (Load), until killed.
func TestKill9Child(t *testing.T) {
	u := os.Getenv(childEnv)
	if u == "" {
		t.Skip("run by TestKill9")
	}
	s, err := Open(context.Background(), u, Options{FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for {
		for _, team := range killTeams {
			s.Add(spend.Delta{TeamID: team, Spend: 1, PeriodStart: p0, ResetAt: r1})
		}
		s.Load("x")
	}
}

// TestKill9 kills a flushing process with SIGKILL: the three teams'
// spends stay equal (a flush is one transaction, rolled back if cut), and
// a restarted store goes on from them.
func TestKill9(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.Schema(t)
	s := openAt(t, u, Options{}) // migrated before the child starts
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Child$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+u)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for s.Load("t3").Team == nil || s.Load("t3").Team.Spend < 50 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("the child did not flush 50 rounds in 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	time.Sleep(100 * time.Millisecond)
	want := s.Load("t1").Team.Spend
	for _, team := range killTeams {
		if got := s.Load(team).Team.Spend; got != want {
			t.Fatalf("after kill -9: %s spend %v, t1 %v", team, got, want)
		}
	}
	s.Add(spend.Delta{TeamID: "t1", Spend: 1, PeriodStart: p0, ResetAt: r1})
	if got := s.Load("t1").Team.Spend; got != want+1 {
		t.Fatalf("after restart: %v, want %v", got, want+1)
	}
}
