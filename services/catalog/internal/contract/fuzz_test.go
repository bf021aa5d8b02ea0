package contract

import (
	"bytes"
	"math"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

// FuzzParseODCS: ParseODCS never panics, and whatever it accepts exports to
// a document that parses back to the same contract and exports to the same
// bytes (Export∘Parse is a fixed point).
func FuzzParseODCS(f *testing.F) {
	// Seeds are small on purpose: the fuzzer minimizes every new interesting
	// input with a quadratic number of runs, which for inputs of a few KiB
	// eats the whole fuzzing time. The large documents have their own tests.
	const head = "apiVersion: v3.1.0\nkind: DataContract\n"
	for _, seed := range []string{
		head,
		head + "id: a\nversion: 1.0.0\nstatus: active\ndomain: d\ndataProduct: p\ntags: [t]\ndescription: {purpose: x}\n",
		head + "schema: [{name: o, properties: [{name: f, logicalType: string, required: true, primaryKey: true, logicalTypeOptions: {pattern: '^a$', maxLength: 3, enum: [a]}}]}]\n",
		head + "schema: [{name: o, properties: [{name: f, logicalType: number, logicalTypeOptions: {format: decimal, minimum: 0}, physicalType: 'decimal(3,1)'}]}]\n",
		head + "schema: [{name: o, properties: [{name: f, logicalType: array, items: {logicalType: object, properties: [{name: g, logicalType: integer}]}}]}]\n",
		head + "schema: [{name: o, properties: [{name: f, quality: [{metric: nullValues, mustBeLessOrEqualTo: 1e-3, unit: percent}]}]}]\n",
		head + "schema: [{name: o, properties: [{name: f, quality: [{metric: invalidValues, arguments: {validValues: [a, 1]}, mustBe: 0}]}]}]\n",
		head + "schema: [{name: o, quality: [{metric: rowCount, mustBeBetween: [1, 2]}, {type: custom, engine: aifactory, implementation: {type: freshness, maxAgeSeconds: 60}}]}]\n",
		head + "slaProperties: [{property: latency, value: 1.5, unit: h}, {property: retention, value: 1, unit: y}]\n",
		head + "servers: [{server: s}]\nschema: [{name: o, id: x, properties: [{name: f, logicalType: time, classification: PII, partitioned: true}]}]\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, unmodeled, err := ParseODCS(data)
		if err != nil {
			if c != nil || unmodeled != nil {
				t.Fatalf("ParseODCS returned a contract with error %v", err)
			}
			return
		}
		_ = Validate(c)
		out, err := ExportODCS(c)
		if err != nil {
			t.Fatalf("ExportODCS: %v", err)
		}
		if len(out) > MaxYAMLBytes {
			t.Skip("export exceeds the size limit")
		}
		c2, unmodeled2, err := ParseODCS(out)
		if err != nil {
			t.Fatalf("ParseODCS(ExportODCS(c)): %v\n%s", err, out)
		}
		if len(unmodeled2) > 0 {
			t.Fatalf("export has unmodeled elements %q\n%s", unmodeled2, out)
		}
		if !proto.Equal(c, c2) {
			t.Fatalf("not a fixed point\n got %v\nwant %v\n%s", c2, c, out)
		}
		out2, err := ExportODCS(c2)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("export differs on the second round: %v\n%s\n%s", err, out, out2)
		}
	})
}

// FuzzCheck builds three contracts from the fuzz bytes: Check never panics,
// is deterministic, FULL is the union of BACKWARD and FORWARD, and every
// contract is compatible with itself in every mode.
func FuzzCheck(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("some contract bytes that are long enough to fill a few fields"))
	f.Add(bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, 20))
	f.Add(bytes.Repeat([]byte{0xff, 0x80, 0x7f, 0x00}, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &byteSource{b: data}
		h1, h2, cand := genContract(src, "1.0.0"), genContract(src, "1.1.0"), genContract(src, "1.2.0")
		history := []*catalogv1.Contract{h1, h2}
		for _, mode := range allModes {
			vs := Check(mode, cand, history)
			again := Check(mode, cand, history)
			if len(vs) != len(again) {
				t.Fatalf("%s: not deterministic", mode)
			}
			for i := range vs {
				if !proto.Equal(vs[i], again[i]) {
					t.Fatalf("%s: not deterministic at %d", mode, i)
				}
				if vs[i].Rule == "" || vs[i].AgainstVersion == "" || vs[i].Description == "" {
					t.Fatalf("%s: incomplete violation %v", mode, vs[i])
				}
			}
			for _, c := range []*catalogv1.Contract{h1, h2, cand} {
				if self := Check(mode, c, []*catalogv1.Contract{c}); len(self) != 0 {
					t.Fatalf("%s: contract incompatible with itself: %v\n%v", mode, self, c)
				}
			}
		}
		for _, pair := range [][3]catalogv1.CompatibilityMode{{mFull, mBackward, mForward}, {mFullT, mBackwardT, mForwardT}} {
			full := keys(Check(pair[0], cand, history))
			union := slices.Concat(keys(Check(pair[1], cand, history)), keys(Check(pair[2], cand, history)))
			slices.Sort(full)
			slices.Sort(union)
			union = slices.Compact(union)
			if !slices.Equal(full, union) {
				t.Fatalf("%s = %q, want the union %q", pair[0], full, union)
			}
		}
	})
}

func keys(vs []*catalogv1.Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.AgainstVersion+"|"+v.Field+"|"+v.Rule+"|"+v.OldValue+"|"+v.NewValue)
	}
	return out
}

// byteSource hands out fuzz bytes as small decisions; past the end it
// returns zeros.
type byteSource struct {
	b []byte
	i int
}

func (s *byteSource) next() byte {
	if s.i >= len(s.b) {
		return 0
	}
	s.i++
	return s.b[s.i-1]
}

func (s *byteSource) intn(n int) int { return int(s.next()) % n }

func (s *byteSource) bit() bool { return s.next()&1 == 1 }

func pick[T any](s *byteSource, xs ...T) T { return xs[s.intn(len(xs))] }

func genContract(s *byteSource, version string) *catalogv1.Contract {
	c := &catalogv1.Contract{Domain: "d", Product: "p", Version: version}
	for n := 1 + s.intn(3); n > 0; n-- {
		c.Schema = append(c.Schema, &catalogv1.SchemaObject{
			Name:       pick(s, "a", "b", "c"),
			Properties: genFields(s, 0),
		})
	}
	return c
}

func genFields(s *byteSource, depth int) []*catalogv1.Field {
	var fs []*catalogv1.Field
	for n := s.intn(5); n > 0; n-- {
		fs = append(fs, genField(s, depth, pick(s, "x", "y", "z", "w")))
	}
	return fs
}

func genField(s *byteSource, depth int, name string) *catalogv1.Field {
	f := &catalogv1.Field{
		Name:        name,
		LogicalType: catalogv1.LogicalType(s.intn(11)), // includes unspecified and one unknown value
		Required:    s.bit(),
		Unique:      s.bit(),
		PrimaryKey:  s.bit(),
	}
	f.PrimaryKeyPosition = int32(s.intn(3))
	for _, v := range []string{"p", "q", "r"} {
		if s.bit() {
			f.Enum = append(f.Enum, v)
		}
	}
	bound := func() *float64 {
		if !s.bit() {
			return nil
		}
		return proto.Float64(pick(s, -1, 0, 1, 5, math.NaN(), math.Inf(1)))
	}
	f.Minimum, f.Maximum = bound(), bound()
	length := func() *int64 {
		if !s.bit() {
			return nil
		}
		return proto.Int64(int64(s.intn(5)) - 1)
	}
	f.MinLength, f.MaxLength = length(), length()
	f.Pattern = pick(s, "", "", "^a$", "^b$", "((")
	f.Precision, f.Scale = int32(s.intn(6)), int32(s.intn(4))
	if depth < 3 {
		switch s.intn(4) {
		case 1:
			f.Properties = genFields(s, depth+1)
		case 2:
			f.Items = genField(s, depth+1, "")
		}
	}
	return f
}
