package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
)

// GET /v1/models lists only what the caller's team and key may call, and
// GET /v1/models/{id} (client.models.retrieve()) answers the same names;
// another team's model is a 404, as a name that does not exist.
func TestModelsListAndRetrieveFollowAllowlists(t *testing.T) {
	up := newFakeUpstream(t)
	g := startGateway(t, twoTeams(t, up, "")...)
	ctx := context.Background()
	clientB := openaiClient(g, keyB)

	m, err := clientB.Models.Get(ctx, "b-model")
	if err != nil || m.ID != "b-model" || m.OwnedBy != teamB {
		t.Fatalf("retrieve b-model: %+v %v", m, err)
	}
	if m, err := clientB.Models.Get(ctx, "global-mock"); err != nil || m.OwnedBy != "gateway" {
		t.Fatalf("retrieve global-mock: %+v %v", m, err)
	}
	for _, name := range []string{"my-team-model", "no-such-model"} {
		_, err := clientB.Models.Get(ctx, name)
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
			t.Errorf("team B retrieving %q: %v, want 404", name, err)
		}
	}

	// A key limited to one model lists and retrieves only that one.
	key := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamB, "models": []string{"b-model"}})["key"].(string)
	narrow := openaiClient(g, key)
	page, err := narrow.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	if !slices.Equal(ids, []string{"b-model"}) {
		t.Errorf("a key limited to b-model lists %v", ids)
	}
	if _, err := narrow.Models.Get(ctx, "global-mock"); err == nil {
		t.Error("a key limited to b-model retrieves global-mock")
	}
	// Every listed name can be called.
	for _, id := range ids {
		if _, err := narrow.Chat.Completions.New(ctx, userSays(id, "hi")); err != nil {
			t.Errorf("calling listed %s: %v", id, err)
		}
	}
}

// /v1/files and /v1/batches answer 501 saying they are not supported yet,
// not a bare 404.
func TestFilesAndBatchesAreNotSupportedYet(t *testing.T) {
	up := newFakeUpstream(t)
	g := startGateway(t, twoTeams(t, up, "")...)
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/v1/files", "/v1/files is not supported"},
		{"POST", "/v1/files", "/v1/files is not supported"},
		{"GET", "/v1/batches/batch-1", "/v1/batches is not supported"},
		{"POST", "/v1/batches/batch-1/cancel", "/v1/batches is not supported"},
	} {
		code, m, raw := g.do(t, c.method, c.path, keyB, nil)
		if e := errorOf(t, m, raw); code != 501 || !strings.Contains(e["message"].(string), c.want) {
			t.Errorf("%s %s: %d %s, want 501 %q", c.method, c.path, code, raw, c.want)
		}
	}
}
