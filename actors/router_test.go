package actors

import (
	"testing"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/wire"
)

func TestMaxRetriesFollowsRetryPolicy(t *testing.T) {
	t.Parallel()
	two, zero := 2, 0
	rc := configs.DefaultRouter()
	j := &job{rc: &rc, firstDep: &configs.Deployment{}}
	cases := []struct {
		e    *wire.Error
		want int
	}{
		{&wire.Error{Status: 503}, 2},
		{&wire.Error{Status: 429}, 2},
		{&wire.Error{Status: 400}, 0},
		{&wire.Error{Status: 401}, 0},
		{&wire.Error{Status: 502, Final: true}, 0},
	}
	for _, c := range cases {
		if got := j.maxRetries(c.e); got != c.want {
			t.Errorf("default policy, %d: %d retries, want %d", c.e.Status, got, c.want)
		}
	}
	rc.RetryPolicy = configs.RetryPolicy{Authentication: &two, RateLimit: &zero,
		ContentPolicy: &two, BadRequest: &zero}
	for _, c := range []struct {
		e    *wire.Error
		want int
	}{
		{&wire.Error{Status: 401}, 2},
		{&wire.Error{Status: 429}, 0},
		{&wire.Error{Status: 400, Message: "content management policy"}, 2},
		{&wire.Error{Status: 400}, 0},
		{&wire.Error{Status: 500}, 2}, // no InternalServer entry: num_retries
	} {
		if got := j.maxRetries(c.e); got != c.want {
			t.Errorf("retry_policy, %d %q: %d retries, want %d", c.e.Status, c.e.Message, got, c.want)
		}
	}
	three := 3
	j.firstDep.LiteLLMParams.MaxRetries = &three
	if got := j.maxRetries(&wire.Error{Status: 500}); got != 3 {
		t.Errorf("a deployment's max_retries: %d", got)
	}
}
