package resources

import "github.com/zs110/dispatch/geo"

// Depot is a stockpile of emergency materials: the city reserve or a town depot.
type Depot struct {
	ID       string    `json:"id" yaml:"id"`
	Name     string    `json:"name" yaml:"name"`
	Town     string    `json:"town" yaml:"town"`
	Kind     string    `json:"kind" yaml:"kind"` // "city" or "town"
	Location geo.Point `json:"location" yaml:"location"`
	// PrepS is the time to load and dispatch a consignment, in seconds, before travel.
	PrepS float64 `json:"prep_s" yaml:"prep_s"`
	// Stock is the initial inventory: item code -> quantity.
	Stock map[string]int `json:"stock" yaml:"stock"`
}

// Item is a kind of material held in depots.
type Item struct {
	Code   string `json:"code" yaml:"code"`
	NameZH string `json:"name_zh" yaml:"name_zh"`
	NameEN string `json:"name_en" yaml:"name_en"`
	Unit   string `json:"unit,omitempty" yaml:"unit,omitempty"` // "bag", "set", "litre"...
}
