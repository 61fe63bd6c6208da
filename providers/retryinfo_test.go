package providers

import "testing"

// Google's errors carry their retry delay in a RetryInfo detail.
func TestGoogleRetryDelay(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]int{
		`{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure"},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"6.2s"}]}}`: 7,
		`{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"30s"}]}}`:                                                                                                   30,
		`{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"soon"}]}}`:                                                                                                  0,
		`{"error":{"message":"x"}}`: 0,
		`not json`:                  0,
	} {
		if got := googleRetryDelay([]byte(body)); got != want {
			t.Errorf("%s: %d, want %d", body, got, want)
		}
	}
}
