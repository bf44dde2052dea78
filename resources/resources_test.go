package resources

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

func TestSplitHandComputed(t *testing.T) {
	cases := []struct {
		name     string
		need     int
		opts     []DepotOption
		want     []Alloc
		missing  int
		makespan float64
	}{
		{"nearest covers all", 100, []DepotOption{{"A", 600, 300}, {"B", 900, 400}},
			[]Alloc{{"A", 100, 600}}, 0, 600},
		{"two depots", 500, []DepotOption{{"C", 1500, 1000}, {"B", 900, 400}, {"A", 600, 300}},
			[]Alloc{{"A", 300, 600}, {"B", 200, 900}}, 0, 900},
		{"far big depot loses to two near ones", 700, []DepotOption{{"CITY", 2400, 10000}, {"A", 300, 400}, {"B", 500, 300}},
			[]Alloc{{"A", 400, 300}, {"B", 300, 500}}, 0, 500},
		{"shortfall reported", 1000, []DepotOption{{"A", 600, 300}, {"B", 900, 400}},
			[]Alloc{{"A", 300, 600}, {"B", 400, 900}}, 300, 900},
		{"empty depots ignored", 10, []DepotOption{{"A", 100, 0}, {"B", 200, -5}, {"C", 300, 10}},
			[]Alloc{{"C", 10, 300}}, 0, 300},
		{"tie on eta broken by id", 5, []DepotOption{{"B", 100, 10}, {"A", 100, 10}},
			[]Alloc{{"A", 5, 100}}, 0, 100},
		{"nothing asked", 0, []DepotOption{{"A", 100, 10}}, nil, 0, 0},
		{"no depots at all", 7, nil, nil, 7, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, missing := Split(c.need, c.opts)
			if !reflect.DeepEqual(got, c.want) || missing != c.missing || Makespan(got) != c.makespan {
				t.Fatalf("Split = %v missing %d makespan %v; want %v missing %d makespan %v", got, missing, Makespan(got), c.want, c.missing, c.makespan)
			}
		})
	}
}

// bruteSplit enumerates every subset of depots and returns the smallest
// makespan of a subset that can cover the need (or, when none can, the
// makespan of taking everything), and the shortfall.
func bruteSplit(need int, opts []DepotOption) (float64, int) {
	best := math.Inf(1)
	total := 0
	all := 0.0
	for _, o := range opts {
		if o.Available > 0 {
			total += o.Available
			all = max(all, o.EtaS)
		}
	}
	if need <= 0 {
		return 0, 0
	}
	if total < need {
		return all, need - total
	}
	for mask := 1; mask < 1<<len(opts); mask++ {
		sum, span := 0, 0.0
		for i, o := range opts {
			if mask&(1<<i) != 0 && o.Available > 0 {
				sum += o.Available
				span = max(span, o.EtaS)
			}
		}
		if sum >= need && span < best {
			best = span
		}
	}
	return best, 0
}

func TestSplitMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		n := r.IntN(12)
		opts := make([]DepotOption, n)
		for j := range opts {
			opts[j] = DepotOption{Depot: fmt.Sprintf("D%02d", j), EtaS: float64(r.IntN(20) * 60), Available: r.IntN(60) - 10}
		}
		need := r.IntN(200) - 5
		allocs, missing := Split(need, opts)
		wantSpan, wantMissing := bruteSplit(need, opts)
		if Makespan(allocs) != wantSpan || missing != wantMissing {
			t.Fatalf("case %d need %d opts %v: Split makespan %v missing %d; brute force %v missing %d", i, need, opts, Makespan(allocs), missing, wantSpan, wantMissing)
		}
		sum := 0
		avail := map[string]int{}
		for _, o := range opts {
			avail[o.Depot] = o.Available
		}
		for _, a := range allocs {
			if a.Qty <= 0 || a.Qty > avail[a.Depot] {
				t.Fatalf("case %d: alloc %v exceeds availability %d", i, a, avail[a.Depot])
			}
			sum += a.Qty
		}
		if need > 0 && sum+missing != need {
			t.Fatalf("case %d: allocated %d + missing %d != need %d", i, sum, missing, need)
		}
	}
}

func TestInventory(t *testing.T) {
	newInv := func() *Inventory {
		return NewInventory([]Depot{{ID: "A", Stock: map[string]int{"sandbag": 100, "pump": 2}}, {ID: "B", Stock: map[string]int{"sandbag": 50}}})
	}
	type step struct {
		op      string // reserve, release, consume, restock
		id      string
		depot   string
		item    string
		qty     int
		wantErr error
	}
	cases := []struct {
		name   string
		steps  []step
		avail  map[string]int // depot/item -> available after
		onHand map[string]int
	}{
		{"reserve then consume", []step{{"reserve", "r1", "A", "sandbag", 30, nil}, {"consume", "r1", "", "", 0, nil}},
			map[string]int{"A/sandbag": 70}, map[string]int{"A/sandbag": 70}},
		{"reserve then release", []step{{"reserve", "r1", "A", "sandbag", 30, nil}, {"release", "r1", "", "", 0, nil}},
			map[string]int{"A/sandbag": 100}, map[string]int{"A/sandbag": 100}},
		{"over-draw refused", []step{{"reserve", "r1", "A", "pump", 3, ErrInsufficient}},
			map[string]int{"A/pump": 2}, map[string]int{"A/pump": 2}},
		{"second reserve over the rest refused", []step{{"reserve", "r1", "A", "sandbag", 80, nil}, {"reserve", "r2", "A", "sandbag", 21, ErrInsufficient}},
			map[string]int{"A/sandbag": 20}, map[string]int{"A/sandbag": 100}},
		{"duplicate id refused", []step{{"reserve", "r1", "B", "sandbag", 10, nil}, {"reserve", "r1", "B", "sandbag", 10, ErrDuplicateReservation}},
			map[string]int{"B/sandbag": 40}, nil},
		{"consume twice refused", []step{{"reserve", "r1", "B", "sandbag", 10, nil}, {"consume", "r1", "", "", 0, nil}, {"consume", "r1", "", "", 0, ErrUnknownReservation}},
			map[string]int{"B/sandbag": 40}, map[string]int{"B/sandbag": 40}},
		{"release unknown refused", []step{{"release", "nope", "", "", 0, ErrUnknownReservation}}, nil, nil},
		{"unknown depot", []step{{"reserve", "r1", "Z", "sandbag", 1, ErrUnknownDepot}}, nil, nil},
		{"zero quantity", []step{{"reserve", "r1", "A", "sandbag", 0, ErrBadQuantity}}, nil, nil},
		{"restock then reserve", []step{{"restock", "", "A", "tent", 5, nil}, {"reserve", "r1", "A", "tent", 5, nil}},
			map[string]int{"A/tent": 0}, map[string]int{"A/tent": 5}},
		{"released id can be used again", []step{{"reserve", "r1", "A", "pump", 2, nil}, {"release", "r1", "", "", 0, nil}, {"reserve", "r1", "A", "pump", 2, nil}},
			map[string]int{"A/pump": 0}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inv := newInv()
			for i, s := range c.steps {
				var err error
				switch s.op {
				case "reserve":
					err = inv.Reserve(s.id, s.depot, s.item, s.qty)
				case "release":
					err = inv.Release(s.id)
				case "consume":
					err = inv.Consume(s.id)
				case "restock":
					err = inv.Restock(s.depot, s.item, s.qty)
				}
				if !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
					t.Fatalf("step %d %s: err %v, want %v", i, s.op, err, s.wantErr)
				}
			}
			for k, want := range c.avail {
				var d, it string
				fmt.Sscanf(k, "%1s/%s", &d, &it)
				if got := inv.Available(d, it); got != want {
					t.Errorf("available %s = %d, want %d", k, got, want)
				}
			}
			for k, want := range c.onHand {
				var d, it string
				fmt.Sscanf(k, "%1s/%s", &d, &it)
				if got := inv.OnHand(d, it); got != want {
					t.Errorf("on hand %s = %d, want %d", k, got, want)
				}
			}
			for _, l := range inv.Levels() {
				if l.Reserved < 0 || l.Reserved > l.OnHand || l.OnHand < 0 {
					t.Errorf("invariant broken: %+v", l)
				}
			}
		})
	}
}

func TestInventoryRestore(t *testing.T) {
	inv := NewInventory([]Depot{{ID: "A", Stock: map[string]int{"sandbag": 100}}})
	if err := inv.SetLevel("A", "sandbag", 90, 20); err != nil {
		t.Fatal(err)
	}
	if err := inv.Restore(Reservation{ID: "r1", Depot: "A", Item: "sandbag", Qty: 20}); err != nil {
		t.Fatal(err)
	}
	if inv.Available("A", "sandbag") != 70 {
		t.Fatalf("available %d", inv.Available("A", "sandbag"))
	}
	if err := inv.Consume("r1"); err != nil || inv.OnHand("A", "sandbag") != 70 {
		t.Fatalf("consume restored: %v, on hand %d", err, inv.OnHand("A", "sandbag"))
	}
	if err := inv.SetLevel("A", "sandbag", 5, 6); !errors.Is(err, ErrBadQuantity) {
		t.Fatalf("reserved above on hand accepted: %v", err)
	}
}

func BenchmarkSplit50(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	opts := make([]DepotOption, 50)
	for j := range opts {
		opts[j] = DepotOption{Depot: fmt.Sprintf("D%02d", j), EtaS: r.Float64() * 3600, Available: r.IntN(500)}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Split(2000, opts)
	}
}
