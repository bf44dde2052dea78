package drillio

import (
	"context"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/zs110/dispatch/dispatch/drill"
)

// Topic returns the topic of a kafka://TOPIC address, and whether addr is one.
func Topic(addr string) (string, bool) {
	t, ok := strings.CutPrefix(addr, "kafka://")
	if !ok || t == "" {
		return "", false
	}
	return t, true
}

// Open opens the stream a replay reads from the address from: a Kafka
// topic for kafka://TOPIC (a Source configured by kcfg, whose Topic is the
// address's), standard input for "-", a JSON-lines file otherwise. total
// is how many records it holds when known in advance: a file's lines, a
// topic's records in its offset range (unknown with kcfg.To set, which
// stops earlier), -1 otherwise. closeSrc releases it.
func Open(ctx context.Context, from string, kcfg SourceConfig) (src drill.Source, total int64, closeSrc func(), err error) {
	if topic, ok := Topic(from); ok {
		kcfg.Topic = topic
		s, err := NewSource(ctx, kcfg)
		if err != nil {
			return nil, 0, nil, err
		}
		total := s.Total()
		if !kcfg.To.IsZero() {
			total = -1
		}
		return s, total, func() { _ = s.Close() }, nil
	}
	if from == "-" {
		return drill.NewJSONLReader(os.Stdin), -1, func() {}, nil
	}
	f, err := os.Open(from)
	if err != nil {
		return nil, 0, nil, err
	}
	n, err := drill.CountLines(f)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		_ = f.Close() // read only
		return nil, 0, nil, err
	}
	return drill.NewJSONLReader(f), int64(n), func() { _ = f.Close() }, nil
}

// ReportOutput says where WriteReport writes a report; each part is
// optional.
type ReportOutput struct {
	// JSON is the file the report's JSON goes to.
	JSON string
	// SVGDir is the directory its SVG plots go into (WritePlots).
	SVGDir string
	// Text receives the report as text.
	Text io.Writer
}

// WriteReport writes a report as JSON, SVG plots and text, in that order.
func WriteReport(rep *drill.Report, out ReportOutput) error {
	if out.JSON != "" {
		b, err := rep.JSON()
		if err != nil {
			return err
		}
		if err := os.WriteFile(out.JSON, b, 0o644); err != nil {
			return err
		}
	}
	if err := WritePlots(out.SVGDir, rep.Plots()); err != nil {
		return err
	}
	if out.Text != nil {
		return rep.WriteText(out.Text)
	}
	return nil
}

// WritePlots writes SVG plots (file name -> content) into dir, created if
// need be, in name order; dir "" writes nothing.
func WritePlots(dir string, plots map[string][]byte) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, n := range slices.Sorted(maps.Keys(plots)) {
		if err := os.WriteFile(filepath.Join(dir, n), plots[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}
