package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// ErrInvalid wraps every scenario validation error.
var ErrInvalid = errors.New("invalid scenario")

// MaxBytes bounds a scenario file (a 100,000-unit scenario is about 20 MB).
const MaxBytes = 64 << 20

// Load reads and validates a scenario file, JSON or YAML (by
// extension: .yaml/.yml are YAML, .json is JSON; any other name is sniffed
// from the content, see Parse).
func Load(path string) (*Scenario, error) {
	f, err := os.Open(path) //nolint:gosec // the scenario file the operator names
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	return Parse(filepath.Base(path), data)
}

// Parse decodes and validates a scenario; name (a file name) is used
// in error messages and, by its extension, picks YAML (.yaml, .yml) or JSON
// (.json). With any other extension the content decides: a document whose
// first non-blank byte is '{' is JSON, anything else YAML. Unknown fields
// are errors in both formats, and so is a second document after the first.
// Every error wraps ErrInvalid.
func Parse(name string, data []byte) (*Scenario, error) {
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", name, ErrInvalid, MaxBytes)
	}
	var sc Scenario
	if isYAML(name, data) {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&sc); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%s: %w: empty document", name, ErrInvalid)
			}
			return nil, fmt.Errorf("%s: %w: %w", name, ErrInvalid, err)
		}
		var extra yaml.Node
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w: more than one YAML document", name, ErrInvalid)
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sc); err != nil {
			return nil, fmt.Errorf("%s: %w: %w", name, ErrInvalid, err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w: data after the scenario", name, ErrInvalid)
		}
		if err := checkJSONArrays(data); err != nil {
			return nil, fmt.Errorf("%s: %w: %w", name, ErrInvalid, err)
		}
	}
	if err := sc.validate(name); err != nil {
		return nil, err
	}
	return &sc, nil
}

// checkJSONArrays rejects fixed-length arrays of the wrong length, which
// encoding/json would silently truncate or pad with zeros (yaml.v3 already
// rejects them).
func checkJSONArrays(data []byte) error {
	var shadow struct {
		Targets []float64 `json:"targets_s"`
		ETA     struct {
			Profiles map[string]struct {
				Hourly []float64 `json:"hourly"`
			} `json:"profiles"`
		} `json:"eta"`
	}
	if err := json.Unmarshal(data, &shadow); err != nil {
		return err
	}
	if n := len(shadow.Targets); shadow.Targets != nil && n != 4 {
		return fmt.Errorf("targets_s: want 4 elements but got %d", n)
	}
	for _, name := range sortedKeys(shadow.ETA.Profiles) {
		if h := shadow.ETA.Profiles[name].Hourly; h != nil && len(h) != 24 {
			return fmt.Errorf("eta.profiles.%s.hourly: want 24 elements but got %d", name, len(h))
		}
	}
	return nil
}

// isYAML picks the decoder: by extension, else by the first non-blank byte.
func isYAML(name string, data []byte) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		return true
	case ".json":
		return false
	}
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(t) == 0 || t[0] != '{'
}

// Validate checks the scenario and returns every problem found (joined with
// errors.Join), each wrapping ErrInvalid and reading
// "<name>: <field path>: invalid scenario: <why>", where name is the
// scenario's Name (or "scenario"). A plan capability that no unit holds is
// not an error (the ranker reports the shortfall): see Warnings.
func (sc *Scenario) Validate() error {
	name := sc.Name
	if name == "" {
		name = "scenario"
	}
	return sc.validate(name)
}

type problems struct {
	file string
	errs []error
}

func (p *problems) add(path, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s: %w: %s", p.file, path, ErrInvalid, fmt.Sprintf(format, args...)))
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func (p *problems) point(path string, pt geo.Point) {
	if err := pt.Validate(); err != nil {
		p.add(path, "%v", err)
	}
}

func (p *problems) unique(path, id string, seen map[string]bool) {
	switch {
	case id == "":
		p.add(path, "empty id")
	case seen[id]:
		p.add(path, "duplicate id %q", id)
	}
	seen[id] = true
}

func (sc *Scenario) validate(file string) error {
	p := &problems{file: file}
	if len(sc.Towns) == 0 {
		p.add("towns", "no towns")
	}
	towns, tms, stations, items, types := map[string]bool{}, map[string]teams.Team{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, t := range sc.Towns {
		path := fmt.Sprintf("towns[%d]", i)
		p.unique(path+".code", t.Code, towns)
		p.point(path+".center", t.Center)
		if t.Population < 0 {
			p.add(path+".population", "negative population %d", t.Population)
		}
	}
	seenTeams := map[string]bool{}
	for i, t := range sc.Teams {
		path := fmt.Sprintf("teams[%d]", i)
		p.unique(path+".id", t.ID, seenTeams)
		tms[t.ID] = t
		switch t.Kind {
		case teams.KindCommand, teams.KindProfessional, teams.KindReserve:
		default:
			p.add(path+".kind", "unknown kind %q (command, professional, reserve)", t.Kind)
		}
		if t.ActivationDelayS < 0 || !finite(t.ActivationDelayS) {
			p.add(path+".activation_delay_s", "must be a non-negative number, got %v", t.ActivationDelayS)
		}
	}
	for i, s := range sc.Stations {
		path := fmt.Sprintf("stations[%d]", i)
		p.unique(path+".id", s.ID, stations)
		if !towns[s.Town] {
			p.add(path+".town", "unknown town %q", s.Town)
		}
		p.point(path+".location", s.Location)
	}
	profiles := sc.ETA.Profiles
	if len(profiles) == 0 {
		p.add("eta.profiles", "no speed profiles")
	}
	for name, prof := range profiles {
		if !(prof.SpeedKmh > 0) || !finite(prof.SpeedKmh) {
			p.add("eta.profiles."+name+".speed_kmh", "must be positive, got %v", prof.SpeedKmh)
		}
		for h, m := range prof.Hourly {
			if m < 0 || !finite(m) {
				p.add(fmt.Sprintf("eta.profiles.%s.hourly[%d]", name, h), "must be a non-negative number, got %v", m)
			}
		}
	}
	if loc := sc.ETA.Location; loc != "" && loc != "Asia/Shanghai" {
		if _, err := time.LoadLocation(loc); err != nil {
			p.add("eta.location", "unknown time zone %q", loc)
		}
	}
	if sc.ETA.DetourFactor != 0 && (sc.ETA.DetourFactor < 1 || !finite(sc.ETA.DetourFactor)) {
		p.add("eta.detour_factor", "must be at least 1, got %v", sc.ETA.DetourFactor)
	}
	seenUnits := map[string]bool{}
	for i, u := range sc.Units {
		path := fmt.Sprintf("units[%d]", i)
		p.unique(path+".id", u.ID, seenUnits)
		if _, ok := tms[u.Team]; !ok {
			p.add(path+".team", "unknown team %q", u.Team)
		}
		if !stations[u.Station] {
			p.add(path+".station", "unknown station %q", u.Station)
		}
		if _, ok := profiles[u.Profile]; !ok {
			p.add(path+".profile", "unknown speed profile %q", u.Profile)
		}
		if len(u.Capabilities) == 0 {
			p.add(path+".capabilities", "a unit needs at least one capability")
		}
		for j, c := range u.Capabilities {
			if c == "" {
				p.add(fmt.Sprintf("%s.capabilities[%d]", path, j), "empty capability")
			}
		}
		if u.Crew < 0 {
			p.add(path+".crew", "negative crew %d", u.Crew)
		}
	}
	for i, it := range sc.Items {
		p.unique(fmt.Sprintf("items[%d].code", i), it.Code, items)
	}
	seenDepots := map[string]bool{}
	for i, d := range sc.Depots {
		path := fmt.Sprintf("depots[%d]", i)
		p.unique(path+".id", d.ID, seenDepots)
		if !towns[d.Town] {
			p.add(path+".town", "unknown town %q", d.Town)
		}
		p.point(path+".location", d.Location)
		if d.PrepS < 0 || !finite(d.PrepS) {
			p.add(path+".prep_s", "must be a non-negative number, got %v", d.PrepS)
		}
		for _, item := range sortedKeys(d.Stock) {
			if !items[item] {
				p.add(path+".stock."+item, "unknown item %q", item)
			}
			if d.Stock[item] < 0 {
				p.add(path+".stock."+item, "negative quantity %d", d.Stock[item])
			}
		}
	}
	p.places(sc.Places, towns)
	for i, t := range sc.Types {
		path := fmt.Sprintf("incident_types[%d]", i)
		p.unique(path+".code", t.Code, types)
		if t.Family == "" {
			p.add(path+".family", "empty family")
		}
		if len(t.Plan.Units) == 0 && len(t.Plan.Materials) == 0 {
			p.add(path+".plan", "the plan asks for no units and no materials")
		}
		if t.Priority < 1 || t.Priority > 4 {
			p.add(path+".priority", "must be 1-4, got %d", t.Priority)
		}
		if t.ServiceS < 0 || !finite(t.ServiceS) {
			p.add(path+".service_s", "must be a non-negative number, got %v", t.ServiceS)
		}
		for j, r := range t.Plan.Units {
			rp := fmt.Sprintf("%s.plan.units[%d]", path, j)
			if r.Capability == "" {
				p.add(rp+".capability", "empty capability")
			}
			if r.Count < 1 {
				p.add(rp+".count", "must be at least 1, got %d", r.Count)
			}
			for k, sub := range r.Substitutes {
				if sub == "" || sub == r.Capability {
					p.add(fmt.Sprintf("%s.substitutes[%d]", rp, k), "substitute %q must be another, non-empty capability", sub)
				}
			}
			if r.First != nil {
				p.first(rp+".first", r)
			}
		}
		for _, item := range sortedKeys(t.Plan.Materials) {
			if !items[item] {
				p.add(path+".plan.materials."+item, "unknown item %q", item)
			}
			if t.Plan.Materials[item] < 0 {
				p.add(path+".plan.materials."+item, "negative quantity %d", t.Plan.Materials[item])
			}
		}
	}
	if !types[sc.Fallback] {
		p.add("fallback_type", "fallback type %q is not in the catalogue", sc.Fallback)
	}
	for i, x := range sc.Targets {
		if !(x > 0) || !finite(x) {
			p.add(fmt.Sprintf("targets_s[%d]", i), "the P%d response target must be positive, got %v", i+1, x)
		}
	}
	if sc.TravelMatrix != nil {
		if tw, err := geo.NewTowns(sc.Towns, 0); err == nil { // bad towns are reported above
			if _, err := geo.NewMatrix(*sc.TravelMatrix, tw); err != nil {
				p.add("travel_matrix", "%s", strings.TrimPrefix(err.Error(), geo.ErrMatrix.Error()+": "))
			}
		}
	}
	return errors.Join(p.errs...)
}

// first checks a requirement's first responders.
func (p *problems) first(path string, r Requirement) {
	f := r.First
	if len(f.Capabilities) == 0 {
		p.add(path+".capabilities", "no first responder capability")
	}
	for k, c := range f.Capabilities {
		cp := fmt.Sprintf("%s.capabilities[%d]", path, k)
		switch {
		case c == "" || c == r.Capability:
			p.add(cp, "first responder %q must be another, non-empty capability", c)
		case slices.Contains(f.Capabilities[:k], c):
			p.add(cp, "duplicate first responder %q", c)
		}
	}
	if f.MarginS < 0 || !finite(f.MarginS) {
		p.add(path+".margin_s", "must be a non-negative number, got %v", f.MarginS)
	}
}

// CheckOnePlusTenPlusTwo reports whether the teams are the "1+10+2" model:
// one command team, ten professional teams, two reserve teams.
func (sc *Scenario) CheckOnePlusTenPlusTwo() error {
	n := map[teams.Kind]int{}
	for _, t := range sc.Teams {
		n[t.Kind]++
	}
	if n[teams.KindCommand] != 1 || n[teams.KindProfessional] != 10 || n[teams.KindReserve] != 2 {
		return fmt.Errorf("%w: teams are %d command + %d professional + %d reserve, not 1+10+2",
			ErrInvalid, n[teams.KindCommand], n[teams.KindProfessional], n[teams.KindReserve])
	}
	return nil
}

// Warnings lists what is allowed but probably a mistake: a plan capability
// that no unit of the scenario holds (the ranker then reports a shortfall,
// or falls back to the listed substitutes), and a first responder
// capability that no professional unit holds (it never sends anyone).
// Each line names the field path.
func (sc *Scenario) Warnings() []string {
	held := map[string]bool{}
	for _, u := range sc.Units {
		for _, c := range u.Capabilities {
			held[c] = true
		}
	}
	reserve := map[string]bool{}
	for _, t := range sc.Teams {
		reserve[t.ID] = t.Kind == teams.KindReserve
	}
	heldPro := map[string]bool{}
	for _, u := range sc.Units {
		for _, c := range u.Capabilities {
			heldPro[c] = heldPro[c] || !reserve[u.Team]
		}
	}
	var out []string
	for i, t := range sc.Types {
		for j, r := range t.Plan.Units {
			if r.First != nil {
				for k, c := range r.First.Capabilities {
					if !heldPro[c] {
						out = append(out, fmt.Sprintf("incident_types[%d].plan.units[%d].first.capabilities[%d]: no professional unit has %q (first responders are never reserves)", i, j, k, c))
					}
				}
			}
			if held[r.Capability] {
				continue
			}
			var subs []string
			for _, s := range r.Substitutes {
				if held[s] {
					subs = append(subs, s)
				}
			}
			msg := fmt.Sprintf("incident_types[%d].plan.units[%d].capability: no unit has %q", i, j, r.Capability)
			if len(subs) > 0 {
				msg += fmt.Sprintf(" (substitutes held: %s)", strings.Join(subs, ", "))
			} else {
				msg += " and no substitute is held: the plan always falls short"
			}
			out = append(out, msg)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
