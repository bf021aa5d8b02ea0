//go:build ignore

// Command pitjoin is the "ours" side of the pit benchmark. tools/bench
// builds it with `go build -overlay` as if it lived in
// services/featurestore/internal/pit/benchjoin, so that it may import the
// feature store's internal packages (pit, features) without a file of the
// benchmark in the feature store's tree.
//
// It loads the data tools/bench wrote (raw little-endian arrays), builds
// the join's input ([]pit.Row and []features.Event, one *Value per feature
// as the feature store holds them) and sorts it as JoinSorted wants, then
// times pit.JoinSorted from the sorted slices to every joined double in a
// preallocated []float64 (emit order plus each row's request index, NaN for
// no value), writes the values in request order for the comparison with
// pandas and prints its measurements as JSON.
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
	"github.com/aifactory/aifactory/services/featurestore/internal/features"
	"github.com/aifactory/aifactory/services/featurestore/internal/pit"
)

type params struct {
	Dir                                string
	Rows, FeatRows, Features, Entities int
	CPUProfile                         string
	// Scattered allocates the values in generation order instead of sorted
	// order, so the join reads them at random addresses.
	Scattered bool
}

type result struct {
	BuildSeconds, SortSeconds, JoinSeconds float64
	PeakRSS                                int64
	HeapBeforeJoin                         uint64 // live heap holding the sorted input
	JoinAllocBytes, JoinMallocs            uint64
	JoinGCs                                uint32
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pitjoin:", err)
		os.Exit(1)
	}
}

func readI64(path string, n int) ([]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) != 8*n {
		return nil, fmt.Errorf("%s: %d bytes, want %d", path, len(b), 8*n)
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return out, nil
}

func run() error {
	var p params
	if err := json.Unmarshal([]byte(os.Args[1]), &p); err != nil {
		return err
	}
	R, F, K := p.Rows, p.FeatRows, p.Features
	var res result
	t := time.Now()
	rowEnt, err := readI64(filepath.Join(p.Dir, "rows_entity.i64"), R)
	if err != nil {
		return err
	}
	rowTS, err := readI64(filepath.Join(p.Dir, "rows_ts.i64"), R)
	if err != nil {
		return err
	}
	featEnt, err := readI64(filepath.Join(p.Dir, "feats_entity.i64"), F)
	if err != nil {
		return err
	}
	featTS, err := readI64(filepath.Join(p.Dir, "feats_ts.i64"), F)
	if err != nil {
		return err
	}
	vals, err := readI64(filepath.Join(p.Dir, "feats_vals.f64"), F*K)
	if err != nil {
		return err
	}

	def := &featurestorev1.FeatureView{Name: "pitbench", Entity: "customer", TimestampField: "ts"}
	for j := range K {
		def.Features = append(def.Features, &featurestorev1.Feature{Name: fmt.Sprintf("f%d", j), Type: featurestorev1.ValueType_VALUE_TYPE_DOUBLE})
	}
	view, err := features.Compile(def, &featurestorev1.Entity{Name: "customer",
		JoinKeys: []*featurestorev1.JoinKey{{Name: "customer_id", Type: featurestorev1.ValueType_VALUE_TYPE_STRING}}})
	if err != nil {
		return err
	}
	keys := make([]string, p.Entities)
	for e := range keys {
		keys[e] = features.EncodeKey([]string{fmt.Sprintf("c%07d", e)})
	}
	rows := make([]pit.Row, R)
	for i := range rows {
		rows[i] = pit.Row{EntityKey: keys[rowEnt[i]], Timestamp: time.Unix(0, rowTS[i]).UTC(), Index: int64(i)}
	}
	events := make([]features.Event, F)
	for i := range events {
		events[i] = features.Event{EntityKey: keys[featEnt[i]], EventTime: time.Unix(0, featTS[i]).UTC(), Seq: uint64(i + 1)}
	}
	res.BuildSeconds = time.Since(t).Seconds()

	t = time.Now()
	pit.SortRows(rows)
	pit.SortEvents(events)
	res.SortSeconds = time.Since(t).Seconds()

	// The events' values, allocated in sorted order as the feature store's
	// history scan (which reads in (entity, event time) order) allocates
	// them, and as pandas' sort_values lays its columns out: one *Value per
	// feature.
	t = time.Now()
	ptrs := make([]*featurestorev1.Value, F*K)
	msgs := make([]featurestorev1.Value, F*K)
	kinds := make([]featurestorev1.Value_DoubleValue, F*K)
	for i := range events {
		src := int(events[i].Seq-1) * K
		for j := range K {
			k := i*K + j
			if p.Scattered {
				k = src + j
			}
			kinds[k].DoubleValue = math.Float64frombits(uint64(vals[src+j]))
			msgs[k].Kind = &kinds[k]
			ptrs[k] = &msgs[k]
		}
		at := i * K
		if p.Scattered {
			at = src
		}
		events[i].Values = ptrs[at : at+K : at+K]
	}
	rowEnt, rowTS, featEnt, featTS, vals = nil, nil, nil, nil, nil
	res.BuildSeconds += time.Since(t).Seconds()

	// The result, in the order JoinSorted emits it (as pandas' result is in
	// its sort order, with the idx column): the values and each row's
	// request index. Preallocated and untouched: page faults count in the
	// join, as pandas' allocation of its result does.
	out := make([]float64, R*K)
	order := make([]int64, R)
	nan := math.NaN()
	present := featurestorev1.FeatureStatus_FEATURE_STATUS_PRESENT
	n := 0
	emit := func(jr *pit.JoinedRow) error {
		order[n] = jr.Index
		o := out[n*K : (n+1)*K]
		n++
		for j := range o {
			if jr.Statuses[j] == present && jr.Values[j] != nil && jr.Values[j].Kind != nil {
				o[j] = jr.Values[j].GetDoubleValue()
			} else {
				o[j] = nan
			}
		}
		return nil
	}
	runtime.GC()
	debug.FreeOSMemory()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res.HeapBeforeJoin = before.HeapAlloc
	if p.CPUProfile != "" {
		f, err := os.Create(p.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	t = time.Now()
	err = pit.JoinSorted(pit.SliceRows(rows), []pit.ViewInput{{View: view, Events: pit.SliceEvents(events)}}, emit)
	res.JoinSeconds = time.Since(t).Seconds()
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	runtime.ReadMemStats(&after)
	res.JoinAllocBytes = after.TotalAlloc - before.TotalAlloc
	res.JoinMallocs = after.Mallocs - before.Mallocs
	res.JoinGCs = after.NumGC - before.NumGC

	if n != R {
		return fmt.Errorf("joined %d rows, want %d", n, R)
	}
	// Untimed: back to request order for the comparison with pandas.
	buf := make([]byte, 8*len(out))
	for k, idx := range order {
		for j := range K {
			binary.LittleEndian.PutUint64(buf[8*(int(idx)*K+j):], math.Float64bits(out[k*K+j]))
		}
	}
	if err := os.WriteFile(filepath.Join(p.Dir, "ours.f64"), buf, 0o644); err != nil {
		return err
	}
	runtime.KeepAlive(rows)
	runtime.KeepAlive(events)
	if res.PeakRSS, err = peakRSS(); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func peakRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	var kb int64
	for _, line := range splitLines(string(b)) {
		if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kb); err == nil {
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}
