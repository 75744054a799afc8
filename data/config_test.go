package data

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hivegym/hivegym/internal/fieldpath"
	"go.yaml.in/yaml/v3"
)

func TestDefaultConfigValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	if c.TicksPerYear() != 105120 || c.TicksPerDay() != 288 {
		t.Errorf("ticks per year %g, per day %g; want 105120 and 288 (specs/world.md)", c.TicksPerYear(), c.TicksPerDay())
	}
	if c.DurationTicks(24*time.Hour) != 288 || c.DurationTicks(time.Minute) != 1 || c.DurationTicks(0) != 0 {
		t.Errorf("DurationTicks wrong")
	}
	if len(c.Locations) != 9 {
		t.Errorf("%d default locations, want the spec's 9", len(c.Locations))
	}
	// The built-in profile has mean 1 (it is a normalized shape).
	s := 0.0
	for _, x := range DefaultDailyProfile {
		s += x
	}
	if s/24 < 0.999 || s/24 > 1.001 {
		t.Errorf("default profile mean %g, want 1", s/24)
	}
}

// TestConfigYAMLRoundTrip: the default config written as YAML and read back strictly is
// the same config (durations as "5m0s", times as RFC 3339, every key snake_case).
func TestConfigYAMLRoundTrip(t *testing.T) {
	c := DefaultConfig()
	b, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"tick: 5m0s", "start: 2024-01-01T00:00:00Z", "mean_usd_per_kwh:", "half_life_days:", "rate_per_year:"} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("YAML lacks %q", key)
		}
	}
	var back Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip changed the config")
	}
}

func TestConfigValidateErrors(t *testing.T) {
	c := DefaultConfig()
	c.Tick = 0
	c.Window = 1
	c.ETH.Jumps.RatePerYear = 1000 // jump variance above sigma^2
	c.ETH.GARCH = GARCHConfig{Enabled: true, Alpha: 1.5, PersistencePerDay: 0.975}
	c.HIVE.Correlation = 1.5
	c.Gas.L1.Demand.HalfLife = 0
	c.Gas.Blob.MeanBlobs = 3
	c.Gas.L2.ReferenceTx = "nope"
	c.Gas.L2.TxKinds = append(c.Gas.L2.TxKinds, TxKind{Name: "transfer", Gas: 10, CompressedBytes: 0})
	c.Locations[1].Name = "Sweden!"
	c.Locations[2].Name = "germany"
	c.Locations[3].DailyProfile = []float64{1, 2}
	c.Locations[0].Negative.Fraction = 0.9
	c.Locations[4].Source = "csv"
	c.Locations[5].Source = "csv"
	c.Locations[5].CSV = &CSVSource{Path: "x.csv", Resample: "nearest", Layout: "2006"}
	c.Shocks = []Shock{{Series: "elec.mars", AtTick: -1, Factor: 0}, {Series: "hive", Duration: time.Hour, Factor: 2}, {Series: "gas.l1", Factor: 2}}
	c.Scenario.Name = ScenarioHeatwave
	c.Scenario.Heatwave.Location = "atlantis"
	c.Market.DemandMultiplier = 0
	err := c.Validate()
	for _, p := range []string{
		"tick: must be a positive duration", "window:", "eth.jumps: jump variance", "eth.garch.alpha",
		"hive.correlation", "gas.l1.demand.half_life", "gas.blob.mean_blobs", "gas.l2.reference_tx",
		"gas.l2.tx_kinds[6].name: duplicate kind \"transfer\"", "gas.l2.tx_kinds[6].gas", "gas.l2.tx_kinds[6].compressed_bytes",
		"locations[1].name", "locations[2].name: duplicate location \"germany\"", "locations[3].daily_profile: must have 24",
		"locations[0].negative.fraction", "locations[4].csv: must be set when source is csv",
		"locations[5].csv.resample", "locations[5].csv.time_column", "locations[5].csv.value_column",
		"shocks[0].series: unknown series \"elec.mars\" (valid: eth, hive, usdc, gas.l1, gas.l2, elec.germany",
		"shocks[0].at_tick", "shocks[0].factor", "shocks[1].duration: must be 0 for hive", "shocks[2].duration: must be a positive",
		"scenario.heatwave.location: unknown location \"atlantis\"", "market.demand_multiplier",
	} {
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("validation error does not mention %q", p)
		}
	}
	// Every joined error is a *fieldpath.Error, so the config loader can locate it.
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *fieldpath.Error
		if !errors.As(e, &fe) {
			t.Errorf("%v is not a *fieldpath.Error", e)
		}
	}
}
