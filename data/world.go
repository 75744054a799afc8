package data

import (
	"math"
	"time"

	"github.com/hivegym/hivegym/internal/rng"
)

// Column describes one series of the world, in the order of World.Values.
type Column struct {
	// Name is the CSV header, with the unit in it: eth_usd, l1_base_fee_gwei,
	// elec_germany_usd_per_kwh.
	Name string
	// Label is a human title ("ETH price") and Unit its unit ("USD").
	Label string
	Unit  string
	// Price is true for token prices (annualized volatility is reported for them).
	Price bool
	// Group names the plot the series belongs to: "tokens", "usdc", "l1", "l2", "elec".
	Group string
}

// Fixed column indices; the electricity columns follow, one per location.
const (
	ColETH = iota
	ColHIVE
	ColUSDC
	ColL1BaseFee
	ColBlobBaseFee
	ColL2BaseFee
	ColL2Tx
	colElec // first electricity column
)

// shockRT is a Shock resolved to ticks and a target.
type shockRT struct {
	kind     shockKindT
	target   int // 0 eth, 1 hive, 2 usdc, 3 gas.l1, 4 gas.l2, 5+i elec location i
	from, to int64
	factor   float64
}

// World is the exogenous state of a run: every series of the config, advanced
// together one tick at a time by Step. Read the current values with the accessor
// methods and the trailing windows with Window. A World is not safe for concurrent use.
type World struct {
	cfg    Config
	tick   int64
	tickNs int64
	dt     float64 // tick in years

	eth  *ethGen
	hive *hiveGen
	usdc *usdcGen
	l1   *chain
	blob *blobMarket
	l2   *chain
	locs []*elecGen

	// CSV sources (nil when synthetic) and their state.
	ethCSV, hiveCSV, usdcCSV, l1CSV *resampler
	locCSV                          []*resampler
	ethJump, hiveJump               float64 // cumulative log jumps applied to CSV prices
	ethLogPrev                      float64

	// Current values.
	ethUSD, hiveUSD, usdcUSD float64
	l1Fee, blobFee, l2Fee    uint64
	l2Prio                   uint64
	elec                     []float64

	// Multipliers of the current tick (window shocks).
	usdcMult, l1Mult, l2Mult float64
	elecMult                 []float64

	kinds   []TxKind
	refKind int
	l1Block int64
	shocks  []shockRT
	cols    []Column
	rings   []*Ring
	vals    []float64
}

// New builds the world of cfg under the run seed: it validates cfg, applies its
// scenario (Config.Resolved), loads CSV sources and sets every series to its tick-0
// value. Errors are *fieldpath.Error values (paths relative to the world section) or
// *CSVError values naming file and line.
func New(cfg Config, seed uint64) (*World, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg, err := cfg.Resolved()
	if err != nil {
		return nil, err
	}
	w := &World{cfg: cfg, tickNs: int64(cfg.Tick), dt: float64(cfg.Tick) / float64(year)}
	w.eth = newETHGen(cfg.ETH, w.dt, rng.New(seed, "eth"))
	w.hive = newHIVEGen(cfg.HIVE, cfg.ETH, w.dt, rng.New(seed, "hive"))
	w.usdc = newUSDCGen(cfg.USDC.Depeg, cfg.Tick, w.dt, rng.New(seed, "usdc"))
	g := cfg.Gas
	w.l1 = newChain(int64(g.L1.BlockTime), w.tickNs, g.L1.GasLimit, g.L1.Elasticity, g.L1.Denominator,
		g.L1.InitialBaseFeeGwei, g.L1.Demand, rng.New(seed, "gas.l1"))
	w.blob = newBlobMarket(g.Blob, rng.New(seed, "gas.blob"))
	w.l2 = newChain(int64(g.L2.BlockTime), w.tickNs, g.L2.GasLimit, g.L2.Elasticity, g.L2.Denominator,
		g.L2.InitialBaseFeeGwei, g.L2.Demand, rng.New(seed, "gas.l2"))
	w.l1Block = int64(g.L1.BlockTime)
	w.l2Prio = uint64(math.Round(g.L2.PriorityFeeGwei * 1e9))
	w.kinds = append([]TxKind(nil), g.L2.TxKinds...)
	for i, k := range w.kinds {
		if k.Name == g.L2.ReferenceTx {
			w.refKind = i
		}
	}

	if w.ethCSV, err = openSource(cfg.ETH.Source, cfg.ETH.CSV, cfg.Tick, tokenRange); err != nil {
		return nil, err
	}
	if w.hiveCSV, err = openSource(cfg.HIVE.Source, cfg.HIVE.CSV, cfg.Tick, tokenRange); err != nil {
		return nil, err
	}
	if w.usdcCSV, err = openSource(cfg.USDC.Source, cfg.USDC.CSV, cfg.Tick, tokenRange); err != nil {
		return nil, err
	}
	if w.l1CSV, err = openSource(g.L1.Source, g.L1.CSV, cfg.Tick, gweiRange); err != nil {
		return nil, err
	}
	w.locCSV = make([]*resampler, len(cfg.Locations))
	for i := range cfg.Locations {
		l := &cfg.Locations[i]
		w.locs = append(w.locs, newElecGen(*l, cfg.Start, cfg.Tick, rng.New(seed, "elec."+l.Name)))
		if w.locCSV[i], err = openSource(l.Source, l.CSV, cfg.Tick, kwhRange); err != nil {
			return nil, err
		}
	}
	w.elec = make([]float64, len(w.locs))
	w.elecMult = make([]float64, len(w.locs))

	for _, s := range cfg.Shocks {
		rt := shockRT{kind: shockKind(s.Series, cfg.Locations), from: s.AtTick, factor: s.Factor}
		rt.to = rt.from + cfg.DurationTicks(s.Duration)
		switch s.Series {
		case "eth":
			rt.target = 0
		case "hive":
			rt.target = 1
		case "usdc":
			rt.target = 2
		case "gas.l1":
			rt.target = 3
		case "gas.l2":
			rt.target = 4
		default:
			for i, l := range cfg.Locations {
				if "elec."+l.Name == s.Series {
					rt.target = 5 + i
				}
			}
		}
		w.shocks = append(w.shocks, rt)
	}

	w.cols = []Column{
		{Name: "eth_usd", Label: "ETH price", Unit: "USD", Price: true, Group: "tokens"},
		{Name: "hive_usd", Label: "HIVE price", Unit: "USD", Price: true, Group: "tokens"},
		{Name: "usdc_usd", Label: "USDC price", Unit: "USD", Price: true, Group: "usdc"},
		{Name: "l1_base_fee_gwei", Label: "L1 base fee", Unit: "gwei", Group: "l1"},
		{Name: "blob_base_fee_wei", Label: "L1 blob base fee", Unit: "wei", Group: "l1"},
		{Name: "l2_base_fee_gwei", Label: "L2 base fee", Unit: "gwei", Group: "l2"},
		{Name: "l2_tx_usd", Label: "L2 " + g.L2.ReferenceTx + " transaction cost", Unit: "USD", Group: "l2"},
	}
	for _, l := range cfg.Locations {
		w.cols = append(w.cols, Column{Name: "elec_" + l.Name + "_usd_per_kwh", Label: "Electricity, " + l.Name,
			Unit: "USD/kWh", Group: "elec"})
	}
	w.rings = make([]*Ring, len(w.cols))
	for i := range w.rings {
		w.rings[i] = NewRing(cfg.Window)
	}
	w.vals = make([]float64, len(w.cols))

	// Tick 0.
	w.ethUSD, w.hiveUSD, w.usdcUSD = cfg.ETH.InitialUSD, cfg.HIVE.InitialUSD, 1
	w.l1Fee, w.blobFee, w.l2Fee = w.l1.rep, w.blob.fee, w.l2.rep
	w.setMultipliers(0)
	w.sources(0)
	w.applyJumps(0)
	w.observe(0)
	return w, nil
}

// openSource loads a CSV source, or returns nil for a synthetic one; its values must
// lie in r (Config.Validate checks the same).
func openSource(kind string, src *CSVSource, tick time.Duration, vr valueRange) (*resampler, error) {
	if kind != SourceCSV {
		return nil, nil
	}
	s, err := loadSource(src, vr)
	if err != nil {
		return nil, err
	}
	scale := src.scale()
	start := s.Times[0]
	if src.From != "" {
		start, _ = time.Parse(time.RFC3339, src.From) // validated
	}
	r, err := newResampler(s, start, tick, src.resample())
	if err != nil {
		return nil, err
	}
	r.scale = scale
	return r, nil
}

// Step advances every series by one tick. It does not allocate.
func (w *World) Step() {
	w.tick++
	k := w.tick
	w.setMultipliers(k)

	// Prices: ETH, then HIVE on ETH's shock.
	if w.ethCSV == nil {
		w.eth.step()
	}
	w.sources(k)
	if w.hiveCSV == nil {
		if w.ethCSV == nil {
			w.hive.step(w.eth.shock, w.eth.hUsed)
		} else {
			w.hive.step(math.Log(w.ethUSD)-w.ethLogPrev, -1)
		}
	}
	if w.usdcCSV == nil {
		w.usdc.step()
	}

	// Gas.
	if w.l1CSV == nil {
		w.l1.mult = w.l1Mult
		w.l1.step()
	}
	for n := blocksIn(k, w.tickNs, w.l1Block); n > 0; n-- {
		w.blob.block()
	}
	w.blob.updateFee()
	w.l2.mult = w.l2Mult
	w.l2.step()

	// Electricity.
	for i, g := range w.locs {
		if w.locCSV[i] == nil {
			g.advance()
		}
	}
	w.applyJumps(k)
	w.observe(k)
}

// sources reads the CSV-sourced prices and remembers ETH's previous log price.
func (w *World) sources(k int64) {
	if w.ethCSV != nil {
		if k > 0 {
			w.ethLogPrev = math.Log(w.ethUSD)
		}
		w.ethUSD = w.ethCSV.next() * math.Exp(w.ethJump)
		if k == 0 {
			w.ethLogPrev = math.Log(w.ethUSD)
		}
	}
}

func (w *World) setMultipliers(k int64) {
	w.usdcMult, w.l1Mult, w.l2Mult = 1, 1, 1
	for i := range w.elecMult {
		w.elecMult[i] = 1
	}
	for i := range w.shocks {
		s := &w.shocks[i]
		if s.kind == shockJump || k < s.from || k >= s.to {
			continue
		}
		switch {
		case s.target == 2:
			w.usdcMult *= s.factor
		case s.target == 3:
			w.l1Mult *= s.factor
		case s.target == 4:
			w.l2Mult *= s.factor
		case s.target >= 5:
			w.elecMult[s.target-5] *= s.factor
		}
	}
}

func (w *World) applyJumps(k int64) {
	for i := range w.shocks {
		s := &w.shocks[i]
		if s.kind != shockJump || s.from != k {
			continue
		}
		lf := math.Log(s.factor)
		switch s.target {
		case 0:
			w.eth.logP += lf
			w.ethJump += lf
			w.ethUSD *= s.factor
		case 1:
			w.hive.logP += lf
			w.hiveJump += lf
		}
	}
}

// observe computes the current values of tick k and pushes them to the windows.
func (w *World) observe(k int64) {
	if w.ethCSV == nil {
		w.ethUSD = w.cfg.ETH.InitialUSD * math.Exp(w.eth.logP)
	}
	if w.hiveCSV == nil {
		w.hiveUSD = w.cfg.HIVE.InitialUSD * math.Exp(w.hive.logP)
	} else {
		w.hiveUSD = w.hiveCSV.next() * math.Exp(w.hiveJump)
	}
	if w.usdcCSV == nil {
		w.usdcUSD = w.usdc.price() * w.usdcMult
	} else {
		w.usdcUSD = w.usdcCSV.next() * w.usdcMult
	}
	if w.l1CSV == nil {
		w.l1Fee = w.l1.rep
	} else {
		w.l1Fee = gweiToWei(w.l1CSV.next() * w.l1Mult)
	}
	w.blobFee = w.blob.fee
	w.l2Fee = w.l2.rep
	for i, g := range w.locs {
		if w.locCSV[i] == nil {
			g.mult = w.elecMult[i]
			w.elec[i] = g.price(k)
		} else {
			w.elec[i] = w.locCSV[i].next() * w.elecMult[i]
		}
	}
	// Prices stay inside the band every balance is sized for (MinTokenUSD, MaxTokenUSD).
	w.ethUSD = min(max(w.ethUSD, MinTokenUSD), MaxTokenUSD)
	w.hiveUSD = min(max(w.hiveUSD, MinTokenUSD), MaxTokenUSD)
	w.usdcUSD = min(max(w.usdcUSD, MinTokenUSD), MaxTokenUSD)
	v := w.vals
	v[ColETH] = w.ethUSD
	v[ColHIVE] = w.hiveUSD
	v[ColUSDC] = w.usdcUSD
	v[ColL1BaseFee] = float64(w.l1Fee) / 1e9
	v[ColBlobBaseFee] = float64(w.blobFee)
	v[ColL2BaseFee] = float64(w.l2Fee) / 1e9
	v[ColL2Tx] = w.L2TxCostUSD(w.refKind)
	copy(v[colElec:], w.elec)
	for i, x := range v {
		w.rings[i].Push(x)
	}
}

// Config returns the resolved config the world runs (its scenario applied).
func (w *World) Config() Config { return w.cfg }

// Market returns the market-facing scenario parameters of the resolved config.
func (w *World) Market() ScenarioParams { return w.cfg.Market }

// Tick is the index of the current tick: 0 after New, +1 per Step.
func (w *World) Tick() int64 { return w.tick }

// Time is the simulated calendar time of the current tick.
func (w *World) Time() time.Time { return w.TimeOf(w.tick) }

// TimeOf is the calendar time of tick k.
func (w *World) TimeOf(k int64) time.Time { return w.cfg.Start.Add(time.Duration(k * w.tickNs)) }

// TicksPerYear is the annualization factor of the tick length.
func (w *World) TicksPerYear() float64 { return w.cfg.TicksPerYear() }

// ETHUSD is the ETH price in USD.
func (w *World) ETHUSD() float64 { return w.ethUSD }

// HIVEUSD is the HIVE price in USD.
func (w *World) HIVEUSD() float64 { return w.hiveUSD }

// USDCUSD is the USDC price in USD (1 unless depegged).
func (w *World) USDCUSD() float64 { return w.usdcUSD }

// L1BaseFeeWei is the tick's representative L1 base fee in wei per gas: the mean
// (floored) of the base fees of the blocks produced during the tick.
func (w *World) L1BaseFeeWei() uint64 { return w.l1Fee }

// BlobBaseFeeWei is the blob base fee in wei per blob gas after the tick's last block.
func (w *World) BlobBaseFeeWei() uint64 { return w.blobFee }

// L2BaseFeeWei is the tick's representative L2 base fee (mean over its blocks).
func (w *World) L2BaseFeeWei() uint64 { return w.l2Fee }

// L2PriorityFeeWei is the L2 priority fee per gas.
func (w *World) L2PriorityFeeWei() uint64 { return w.l2Prio }

// TxKinds returns the configured L2 transaction kinds; their indices are the kind
// arguments of L2TxFeeWei and L2TxCostUSD.
func (w *World) TxKinds() []TxKind { return w.kinds }

// TxKind returns the index of the named transaction kind.
func (w *World) TxKind(name string) (int, bool) {
	for i, k := range w.kinds {
		if k.Name == name {
			return i, true
		}
	}
	return 0, false
}

// L2TxFeeWei is the fee of one L2 transaction of the given kind at this tick, in wei:
// gas * (base fee + priority fee) + the L1 data fee of its compressed size
// (L1DataFee with the tick's L1 base fee and blob base fee). It saturates at 2^64-1.
func (w *World) L2TxFeeWei(kind int) uint64 {
	k := w.kinds[kind]
	l2 := w.cfg.Gas.L2
	exec := mulSat(k.Gas, addSat(w.l2Fee, w.l2Prio))
	return addSat(exec, L1DataFee(k.CompressedBytes, w.l1Fee, w.blobFee, l2.BaseFeeScalar, l2.BlobBaseFeeScalar))
}

// L2TxCostUSD is L2TxFeeWei in USD at the tick's ETH price.
func (w *World) L2TxCostUSD(kind int) float64 { return float64(w.L2TxFeeWei(kind)) / 1e18 * w.ethUSD }

// NumLocations is the number of electricity locations.
func (w *World) NumLocations() int { return len(w.locs) }

// LocationName is the name of location i.
func (w *World) LocationName(i int) string { return w.cfg.Locations[i].Name }

// Location returns the index of the named location.
func (w *World) Location(name string) (int, bool) {
	for i, l := range w.cfg.Locations {
		if l.Name == name {
			return i, true
		}
	}
	return 0, false
}

// ElecUSDPerKWh is the electricity price of location i in USD per kWh.
func (w *World) ElecUSDPerKWh(i int) float64 { return w.elec[i] }

// Columns describes the series in the order of Values and Window.
func (w *World) Columns() []Column { return w.cols }

// Values appends the current value of every column to dst[:0] and returns it.
func (w *World) Values(dst []float64) []float64 { return append(dst[:0], w.vals...) }

// Window returns the trailing window of column col (Config.Window ticks). It aliases
// the world's state: it changes with every Step.
func (w *World) Window(col int) *Ring { return w.rings[col] }
