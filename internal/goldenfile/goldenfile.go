// Package goldenfile is the golden-file check the translation tests share:
// compare an output with a file under testdata, or rewrite the file when
// the test runs with -update.
package goldenfile

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"
)

// Update is the -update flag of every test binary that imports the
// package: rewrite the golden files instead of comparing with them.
var Update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Check compares got with the file at path, or writes it there under
// -update.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// Indent is b (valid JSON) indented by two spaces, with a final newline;
// it fails the test when b is not JSON.
func Indent(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("output is not valid JSON: %v\n%s", err, b)
	}
	out.WriteByte('\n')
	return out.Bytes()
}
