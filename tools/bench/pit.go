package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// pitJoinSource is the ours side of the pit benchmark (see its doc): the
// feature store's join engine is internal to services/featurestore, so the
// benchmark builds this file as if it lived there (go build -overlay)
// instead of importing it.
//
//go:embed pit_join_main.go
var pitJoinSource []byte

// pitPandasScript is the floor: pandas merge_asof.
//
//go:embed pit_pandas.py
var pitPandasScript []byte

// pitJoinPackage is where the overlay puts pitJoinSource.
const pitJoinPackage = "services/featurestore/internal/pit/benchjoin"

type pitOptions struct {
	rows, featRows, entities, features int
	python                             string
	keep, scattered                    bool
}

var pitOpts pitOptions

func registerPITFlags(fs *flag.FlagSet) {
	fs.IntVar(&pitOpts.rows, "pit-rows", 1_000_000, "pit: entity rows (the request)")
	fs.IntVar(&pitOpts.featRows, "pit-feature-rows", 2_000_000, "pit: feature rows (events)")
	fs.IntVar(&pitOpts.entities, "pit-entities", 100_000, "pit: distinct entities")
	fs.IntVar(&pitOpts.features, "pit-features", 10, "pit: double features per feature row")
	fs.StringVar(&pitOpts.python, "python", "/usr/bin/python3", "pit: Python with pandas (Debian's python3-pandas) for the floor")
	fs.BoolVar(&pitOpts.keep, "pit-keep", false, "pit: keep the generated data directory")
	fs.BoolVar(&pitOpts.scattered, "pit-scattered", false, "pit: allocate ours' feature values in generation order rather than sorted order (random memory access in the join)")
}

// pitSide is what either side measured.
type pitSide struct {
	BuildSeconds, SortSeconds, JoinSeconds float64
	PeakRSS                                int64
	HeapBeforeJoin                         uint64
	JoinAllocBytes, JoinMallocs            uint64
	JoinGCs                                uint32
	Pandas, Numpy, Python                  string
}

func runPIT(ctx context.Context, o options) error {
	po := pitOpts
	if po.rows <= 0 || po.featRows <= 0 || po.entities <= 0 || po.features <= 0 {
		return errors.New("--pit-rows, --pit-feature-rows, --pit-entities and --pit-features must be positive")
	}
	dir, err := os.MkdirTemp("", "aifactory-bench-pit-")
	if err != nil {
		return err
	}
	if po.keep {
		logf("pit: data kept in %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	logf("pit: generating %d entity rows, %d feature rows × %d doubles over %d entities (seed %d)", po.rows, po.featRows, po.features, po.entities, o.seed)
	if err := writePITData(dir, po, o.seed); err != nil {
		return err
	}

	// Ours.
	bin, err := buildPITJoin(ctx, dir)
	if err != nil {
		return err
	}
	params := map[string]any{"Dir": dir, "Rows": po.rows, "FeatRows": po.featRows, "Features": po.features, "Entities": po.entities, "Scattered": po.scattered}
	if o.cpuProfile != "" {
		abs, err := filepath.Abs(o.cpuProfile + ".pit")
		if err != nil {
			return err
		}
		params["CPUProfile"] = abs
		logf("pit: CPU profile of the join in %s", abs)
	}
	arg, _ := json.Marshal(params)
	logf("pit: ours (pit.JoinSorted)")
	var ours pitSide
	if err := runJSONCommand(ctx, &ours, nil, bin, string(arg)); err != nil {
		return fmt.Errorf("ours: %w", err)
	}
	logf("pit: ours joined in %.3fs (input built in %.1fs, sorted in %.1fs)", ours.JoinSeconds, ours.BuildSeconds, ours.SortSeconds)

	// Floor.
	var floor *pitSide
	why := ""
	if err := exec.CommandContext(ctx, po.python, "-c", "import pandas").Run(); err != nil {
		why = fmt.Sprintf("%s cannot import pandas (%v): apt-get install -y python3-pandas", po.python, err)
	} else {
		script := filepath.Join(dir, "pit_pandas.py")
		if err := os.WriteFile(script, pitPandasScript, 0o644); err != nil {
			return err
		}
		logf("pit: floor (pandas merge_asof)")
		floor = new(pitSide)
		err := runJSONCommand(ctx, floor, nil, po.python, script, dir,
			strconv.Itoa(po.rows), strconv.Itoa(po.featRows), strconv.Itoa(po.features))
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		logf("pit: pandas %s merge_asof in %.3fs (frames built in %.1fs, sorted in %.1fs)", floor.Pandas, floor.JoinSeconds, floor.BuildSeconds, floor.SortSeconds)
	}

	sum, nans, err := checksumF64(filepath.Join(dir, "ours.f64"))
	if err != nil {
		return err
	}
	layout := "sorted"
	if po.scattered {
		layout = "scattered"
	}
	common := fmt.Sprintf("rows=%d feature_rows=%d entities=%d features=%d ttl=0 layout_ours=%s rss_ours=%.1fMiB", po.rows, po.featRows, po.entities, po.features, layout, mib(ours.PeakRSS))
	goDetail := fmt.Sprintf("heap_input_ours=%.1fMiB join_alloc_ours=%.1fMiB join_gcs_ours=%d sort_ours=%.2fs", mib(int64(ours.HeapBeforeJoin)), mib(int64(ours.JoinAllocBytes)), ours.JoinGCs, ours.SortSeconds)
	if floor == nil {
		fmt.Printf("RESULT pit ours=%.3fs floor=NA ratio=NA %s %s checksum=%.6g nan_values=%d floor_missing=pandas\n", ours.JoinSeconds, common, goDetail, sum, nans)
		fmt.Printf("pit: no floor: %s\n", why)
		return nil
	}
	diff, first, err := compareF64(filepath.Join(dir, "ours.f64"), filepath.Join(dir, "pandas.f64"))
	if err != nil {
		return err
	}
	if diff > 0 {
		return fmt.Errorf("ours and pandas disagree on %d of %d joined values (first at row %d, feature %d)", diff, po.rows*po.features, first/po.features, first%po.features)
	}
	r := ratio(ours.JoinSeconds, floor.JoinSeconds)
	fmt.Printf("RESULT pit ours=%.3fs floor=%.3fs ratio=%.2f %s rss_floor=%.1fMiB %s sort_floor=%.2fs pandas=%s numpy=%s python=%s checksum=%.6g nan_values=%d identical=%d\n",
		ours.JoinSeconds, floor.JoinSeconds, r, common, mib(floor.PeakRSS), goDetail, floor.SortSeconds, floor.Pandas, floor.Numpy, floor.Python, sum, nans, po.rows*po.features)
	verdict := "met"
	if r >= 1 {
		verdict = "NOT met"
	}
	fmt.Printf("pit: ours/pandas time %.2f (target < 1: %s); all %d joined values identical (NaN = no visible event); peak RSS ours %.1fMiB (input %.1fMiB live heap, join allocated %.1fMiB), pandas %.1fMiB\n",
		r, verdict, po.rows*po.features, mib(ours.PeakRSS), mib(int64(ours.HeapBeforeJoin)), mib(int64(ours.JoinAllocBytes)), mib(floor.PeakRSS))
	return nil
}

// writePITData writes the benchmark's data as raw little-endian arrays:
// rows_entity.i64, rows_ts.i64 (unix ns), feats_entity.i64, feats_ts.i64
// and feats_vals.f64 (feature rows × features, row-major). Times are whole
// microseconds over a year; values are uniform doubles. Both sides read
// the same bytes.
func writePITData(dir string, po pitOptions, seed uint64) error {
	rnd := rand.New(rand.NewPCG(seed, 0x9175))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	const spanUS = 365 * 24 * 3600 * 1_000_000
	ts := func() uint64 { return uint64(start + rnd.Int64N(spanUS)*1000) }
	write := func(name string, n int, next func() uint64) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		var b [8]byte
		for range n {
			binary.LittleEndian.PutUint64(b[:], next())
			_, _ = w.Write(b[:])
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	ent := func() uint64 { return uint64(rnd.IntN(po.entities)) }
	val := func() uint64 { return math.Float64bits(rnd.Float64() * 1000) }
	for _, s := range []struct {
		name string
		n    int
		next func() uint64
	}{
		{"rows_entity.i64", po.rows, ent},
		{"rows_ts.i64", po.rows, ts},
		{"feats_entity.i64", po.featRows, ent},
		{"feats_ts.i64", po.featRows, ts},
		{"feats_vals.f64", po.featRows * po.features, val},
	} {
		if err := write(s.name, s.n, s.next); err != nil {
			return err
		}
	}
	return nil
}

// buildPITJoin builds pitJoinSource into dir/pitjoin with an overlay that
// places it in the feature store's module (nothing is written to the
// repository).
func buildPITJoin(ctx context.Context, dir string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	src := filepath.Join(dir, "pitjoin_main.go")
	// The file carries //go:build ignore so that tools/bench does not
	// compile it; drop the constraint for the overlay.
	code := bytes.Replace(pitJoinSource, []byte("//go:build ignore\n"), nil, 1)
	if err := os.WriteFile(src, code, 0o644); err != nil {
		return "", err
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{
		filepath.Join(root, filepath.FromSlash(pitJoinPackage), "main.go"): src}})
	ovl := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(ovl, overlay, 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "pitjoin")
	cmd := exec.CommandContext(ctx, "go", "build", "-overlay", ovl, "-o", bin, "./"+pitJoinPackage)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build the join program (go build -overlay … ./%s): %w", pitJoinPackage, err)
	}
	return bin, nil
}

// runJSONCommand runs a program and decodes the JSON it prints.
func runJSONCommand(ctx context.Context, result any, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childProcAttr()
	if env != nil {
		cmd.Env = env
	}
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(name), err)
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), result); err != nil {
		return fmt.Errorf("%s printed %q: %w", filepath.Base(name), strings.TrimSpace(string(out)), err)
	}
	return nil
}

// checksumF64 sums the non-NaN values of a raw float64 file and counts
// the NaNs.
func checksumF64(path string) (float64, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	var sum float64
	nans := 0
	for i := 0; i+8 <= len(b); i += 8 {
		v := math.Float64frombits(binary.LittleEndian.Uint64(b[i:]))
		if math.IsNaN(v) {
			nans++
		} else {
			sum += v
		}
	}
	return sum, nans, nil
}

// compareF64 counts the values of two raw float64 files that differ (NaN
// equals NaN) and returns the index of the first.
func compareF64(a, b string) (int, int, error) {
	x, err := os.ReadFile(a)
	if err != nil {
		return 0, 0, err
	}
	y, err := os.ReadFile(b)
	if err != nil {
		return 0, 0, err
	}
	if len(x) != len(y) {
		return 0, 0, fmt.Errorf("%s has %d bytes, %s %d", a, len(x), b, len(y))
	}
	diff, first := 0, -1
	for i := 0; i+8 <= len(x); i += 8 {
		u := math.Float64frombits(binary.LittleEndian.Uint64(x[i:]))
		v := math.Float64frombits(binary.LittleEndian.Uint64(y[i:]))
		if u != v && !(math.IsNaN(u) && math.IsNaN(v)) {
			if first < 0 {
				first = i / 8
			}
			diff++
		}
	}
	return diff, first, nil
}
