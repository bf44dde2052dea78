// Package scenario owns the city as data: towns, the 13 teams of "1+10+2",
// stations, units and their capabilities, items, depots and stock, the ETA
// model, the incident catalogue with its response plans and priorities, and
// the response-time targets.
//
// Default returns the embedded Zhongshan city (data/zhongshan.json, made from
// data/zhongshan_towns.csv by Generate); Load and Parse read and validate a
// JSON or YAML file (ErrInvalid lists every problem found); Generate makes a
// synthetic city of any size for benchmarks and drills. The engine, the
// drills, the web server and dispatchd read a scenario through this package;
// it knows nothing of the engine that runs it.
package scenario
