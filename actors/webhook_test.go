package actors

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestWebhookSenderPostsOffThePath(t *testing.T) {
	t.Parallel()
	got := make(chan []byte, 4)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
		got <- b
		if strings.Contains(string(b), "slow") {
			<-release
		}
	}))
	defer srv.Close()
	defer close(release)
	logs := &lockedBuf{}
	w := NewWebhookSender(slog.New(slog.NewTextHandler(logs, nil)), 200*time.Millisecond)
	url := srv.URL + "/secret-path-token"
	start := time.Now()
	w.Send(url, SoftBudgetAlert{Event: "slow"})
	for i := 0; i < webhookQueue+10; i++ {
		w.Send(url, SoftBudgetAlert{Event: "soft_budget_crossed", KeyAlias: "k"})
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("Send blocked for %s", d)
	}
	var first SoftBudgetAlert
	if err := json.Unmarshal(<-got, &first); err != nil || first.Event != "slow" {
		t.Fatalf("first post: %+v %v", first, err)
	}
	select {
	case b := <-got: // after the slow one timed out
		if !strings.Contains(string(b), "soft_budget_crossed") {
			t.Fatalf("second post: %s", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the sender is stuck behind a slow webhook")
	}
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(logs.String(), "timeout=true") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if l := logs.String(); !strings.Contains(l, "queue full") || !strings.Contains(l, "timeout=true") || strings.Contains(l, "secret-path-token") || strings.Contains(l, srv.URL) {
		t.Fatalf("logs (must say full queue and timeout, never the URL):\n%s", l)
	}
}
