package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocCommands: every flag the README and docs/ give a drill command
// (gen, replay, report, bound) is a flag of that command, and no document
// names a path outside the repository for its files (/tmp, a home, a
// machine's work directory).
func TestDocCommands(t *testing.T) {
	flagLine := regexp.MustCompile(`(?m)^\s+-([a-z][a-z0-9-]*)`)
	known := map[string]map[string]bool{}
	for _, cmd := range []string{"gen", "replay", "report", "bound"} {
		var help bytes.Buffer
		_ = drillCmd(context.Background(), cmd, []string{"-h"}, io.Discard, &help) // flag.ErrHelp
		known[cmd] = map[string]bool{"h": true}
		for _, m := range flagLine.FindAllStringSubmatch(help.String(), -1) {
			known[cmd][m[1]] = true
		}
		if len(known[cmd]) < 3 {
			t.Fatalf("%s: flags not read from its help:\n%s", cmd, help.String())
		}
	}
	docs, _ := filepath.Glob("../../docs/*.md")
	docs = append(docs, "../../README.md")
	use := regexp.MustCompile("dispatchd (gen|replay|report|bound)\\b([^`\\n#|]*)")
	flag := regexp.MustCompile(`(?:^|\s|\[)--?([a-z][a-z0-9-]*)`)
	outside := regexp.MustCompile(`(?:^|[\s(=` + "`" + `'"])(/tmp/|/home/|/work/|/root/)`)
	n := 0
	for _, path := range docs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range use.FindAllStringSubmatch(line, -1) {
				for _, f := range flag.FindAllStringSubmatch(m[2], -1) {
					n++
					if !known[m[1]][f[1]] {
						t.Errorf("%s:%d: dispatchd %s has no flag -%s: %s", filepath.Base(path), i+1, m[1], f[1], strings.TrimSpace(line))
					}
				}
			}
			if outside.MatchString(line) {
				t.Errorf("%s:%d: a path outside the repository: %s", filepath.Base(path), i+1, strings.TrimSpace(line))
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d flags found in the documents", n)
	}
}
