package drill

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/wire"
)

// Source yields incidents, in reported_at order for a faithful replay (an
// incident reported before the drill's clock is decided at the clock's time).
type Source interface {
	// Next returns the next incident; io.EOF after the last.
	Next() (dispatch.Incident, error)
}

// SliceSource is a Source over a slice.
type SliceSource struct {
	Incidents []dispatch.Incident
	pos       int
}

// Next implements Source.
func (s *SliceSource) Next() (dispatch.Incident, error) {
	if s.pos >= len(s.Incidents) {
		return dispatch.Incident{}, io.EOF
	}
	s.pos++
	return s.Incidents[s.pos-1], nil
}

// AppendJSON appends inc as one JSON object in the incident schema of
// docs/protocol.md (no newline). Times are RFC 3339 in Zhongshan time.
func AppendJSON(b []byte, inc dispatch.Incident) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, inc.ID)
	b = append(b, `,"reported_at":"`...)
	b = inc.ReportedAt.In(cst).AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","type":`...)
	b = appendString(b, inc.Type)
	if inc.Priority != 0 {
		b = append(b, `,"priority":`...)
		b = strconv.AppendInt(b, int64(inc.Priority), 10)
	}
	if inc.HasLocation {
		b = append(b, `,"lat":`...)
		b = strconv.AppendFloat(b, inc.Lat, 'f', -1, 64)
		b = append(b, `,"lng":`...)
		b = strconv.AppendFloat(b, inc.Lng, 'f', -1, 64)
	}
	for _, f := range [...]struct{ k, v string }{{"address", inc.Address}, {"description", inc.Description}, {"caller", inc.Caller}, {"drill", inc.Drill}} {
		if f.v != "" {
			b = append(b, `,"`...)
			b = append(b, f.k...)
			b = append(b, `":`...)
			b = appendString(b, f.v)
		}
	}
	if inc.Casualties != 0 {
		b = append(b, `,"casualties":`...)
		b = strconv.AppendInt(b, int64(inc.Casualties), 10)
	}
	if len(inc.Materials) > 0 {
		m, _ := json.Marshal(inc.Materials) // map[string]int: cannot fail; keys sorted
		b = append(b, `,"materials":`...)
		b = append(b, m...)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string: plain ASCII directly, anything
// else through encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// WriteJSONL writes every incident of src to w, one JSON object a line,
// and returns how many it wrote. progress, when not nil, is called every
// 10,000 records with the count so far.
func WriteJSONL(w io.Writer, src Source, progress func(n int)) (int, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	var buf []byte
	n := 0
	for {
		inc, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
		buf = AppendJSON(buf[:0], inc)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return n, fmt.Errorf("write: %w", err)
		}
		n++
		if progress != nil && n%10000 == 0 {
			progress(n)
		}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("write: %w", err)
	}
	return n, nil
}

// DecodeRecord decodes one incident record with wire.DecodeIncident.
// A record intake refuses but that names an incident is kept (the engine
// shows it to dispatchers for manual handling); ok is false for a record
// that names none. A missing reported_at is taken from last.
func DecodeRecord(b []byte, last time.Time) (inc dispatch.Incident, ok bool) {
	inc, err := wire.DecodeIncident(b)
	if err != nil && inc.ID == "" {
		return inc, false
	}
	if inc.ReportedAt.IsZero() {
		inc.ReportedAt = last
	}
	return inc, true
}

// JSONLReader reads incidents from JSON lines (as WriteJSONL writes them);
// it implements Source. Blank lines are ignored; records that name no
// incident are skipped and counted.
type JSONLReader struct {
	r       *bufio.Reader
	line    int
	skipped int
	invalid int
	last    time.Time
}

// NewJSONLReader reads from r.
func NewJSONLReader(r io.Reader) *JSONLReader {
	return &JSONLReader{r: bufio.NewReaderSize(r, 1<<20)}
}

// Next implements Source.
func (j *JSONLReader) Next() (dispatch.Incident, error) {
	for {
		b, err := j.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// a line longer than the buffer: gather it whole
			long := append([]byte(nil), b...)
			for err == bufio.ErrBufferFull {
				b, err = j.r.ReadSlice('\n')
				long = append(long, b...)
			}
			b = long
		}
		if err != nil && err != io.EOF {
			return dispatch.Incident{}, fmt.Errorf("read line %d: %w", j.line+1, err)
		}
		if len(b) == 0 && err == io.EOF {
			return dispatch.Incident{}, io.EOF
		}
		j.line++
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			if err == io.EOF {
				return dispatch.Incident{}, io.EOF
			}
			continue
		}
		inc, ok := DecodeRecord(b, j.last)
		if !ok {
			j.skipped++
			continue
		}
		if inc.Invalid != "" {
			j.invalid++
		}
		j.last = inc.ReportedAt
		return inc, nil
	}
}

// Skipped returns how many records were skipped (they named no incident).
func (j *JSONLReader) Skipped() int { return j.skipped }

// Invalid returns how many records intake refused but kept for manual handling.
func (j *JSONLReader) Invalid() int { return j.invalid }

// CountLines counts the non-blank lines of r (the records of a JSON-lines file), for a progress bar.
func CountLines(r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	n, inLine := 0, false
	buf := make([]byte, 1<<20)
	for {
		k, err := br.Read(buf)
		for _, c := range buf[:k] {
			switch {
			case c == '\n':
				if inLine {
					n++
				}
				inLine = false
			case c != ' ' && c != '\t' && c != '\r':
				inLine = true
			}
		}
		if err == io.EOF {
			if inLine {
				n++
			}
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// finite reports whether x is a usable number.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
