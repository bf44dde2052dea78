package drill

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The bins of a Hist: 10 s wide up to 1 hour, 1 minute wide up to 6 hours,
// 10 minutes wide up to 48 hours, then one overflow bin.
const (
	histFine     = 360 // [0, 3600) s in 10 s bins
	histMid      = 300 // [3600, 21600) s in 60 s bins
	histCoarse   = 252 // [21600, 172800) s in 600 s bins
	histOverflow = histFine + histMid + histCoarse
	// HistBins is the number of bins of a Hist, the overflow bin included.
	HistBins = histOverflow + 1
)

// HistBin returns the bin of a time in seconds (negative times go to bin 0).
func HistBin(s float64) int {
	switch {
	case !(s >= 0):
		return 0
	case s < 3600:
		return int(s / 10)
	case s < 21600:
		return histFine + int((s-3600)/60)
	case s < 172800:
		return histFine + histMid + int((s-21600)/600)
	}
	return histOverflow
}

// HistBinRange returns the times [lo, hi) a bin covers; hi is +Inf for the
// overflow bin.
func HistBinRange(b int) (lo, hi float64) {
	switch {
	case b < histFine:
		return float64(b) * 10, float64(b+1) * 10
	case b < histFine+histMid:
		lo = 3600 + float64(b-histFine)*60
		return lo, lo + 60
	case b < histOverflow:
		lo = 21600 + float64(b-histFine-histMid)*600
		return lo, lo + 600
	}
	return 172800, math.Inf(1)
}

// Hist is a compact histogram of times in seconds (see HistBin): the
// non-empty bins in increasing order with their counts. In JSON it is one
// string of runs separated by spaces, each the first bin of the run, a colon
// and the counts of consecutive bins separated by commas ("8:3,4,0,2 59:1":
// bins 8, 9, 11 and 59; a zero fills a one-bin gap).
type Hist struct {
	Bins   []int32
	Counts []int32
}

// add counts one time.
func (h *Hist) add(s float64) {
	b := int32(HistBin(s))
	i, ok := slices.BinarySearch(h.Bins, b)
	if ok {
		h.Counts[i]++
		return
	}
	h.Bins = slices.Insert(h.Bins, i, b)
	h.Counts = slices.Insert(h.Counts, i, 1)
}

// Total is the number of times counted.
func (h Hist) Total() int {
	n := 0
	for _, c := range h.Counts {
		n += int(c)
	}
	return n
}

// MarshalJSON writes the histogram as one string.
func (h Hist) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(h.Bins)*3)
	b = append(b, '"')
	for i := range h.Bins {
		switch {
		case i > 0 && h.Bins[i] == h.Bins[i-1]+1:
			b = append(b, ',')
		case i > 0 && h.Bins[i] == h.Bins[i-1]+2:
			b = append(b, ",0,"...)
		default:
			if i > 0 {
				b = append(b, ' ')
			}
			b = strconv.AppendInt(b, int64(h.Bins[i]), 10)
			b = append(b, ':')
		}
		b = strconv.AppendInt(b, int64(h.Counts[i]), 10)
	}
	return append(b, '"'), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (h *Hist) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("histogram: %w", err)
	}
	h.Bins, h.Counts = nil, nil
	next := int64(0) // the lowest bin the next run may start at
	for _, run := range strings.Fields(s) {
		bs, cs, ok := strings.Cut(run, ":")
		bin, err := strconv.ParseInt(bs, 10, 32)
		if !ok || err != nil || bin < next {
			return fmt.Errorf("histogram: bad run %q", run)
		}
		for c := range strings.SplitSeq(cs, ",") {
			n, err := strconv.ParseInt(c, 10, 32)
			if err != nil || n < 0 || bin >= HistBins {
				return fmt.Errorf("histogram: bad run %q", run)
			}
			if n > 0 {
				h.Bins = append(h.Bins, int32(bin))
				h.Counts = append(h.Counts, int32(n))
			}
			bin++
		}
		next = bin
	}
	return nil
}
