package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Where the features benchmark writes: domain benchfs, product profiles
// (data stream DATA_BENCHFS), one feature view "profile" of entity
// "customer" (join key customer_id) with fsFeatures field features.
const (
	fsDomain   = "benchfs"
	fsProduct  = "profiles"
	fsView     = "profile"
	fsEntity   = "customer"
	fsKey      = "customer_id"
	fsTSField  = "event_ts"
	fsFeatures = 20
)

// fsFeatureName is the name (and record field) of feature j: f00…f19.
func fsFeatureName(j int) string { return fmt.Sprintf("f%02d", j) }

// fsFeatureType is feature j's type: double, int64 and string in turn.
func fsFeatureType(j int) string { return [...]string{"double", "int64", "string"}[j%3] }

// fsValue is one generated feature value of the type fsFeatureType says.
type fsValue struct {
	f float64
	i int64
	s string
}

// fsRecord is record i of the features benchmark.
type fsRecord struct {
	id     int64
	entity string
	ts     time.Time
	vals   [fsFeatures]fsValue
}

// fsGen makes the records: record i depends only on (seed, i); its entity
// is one of entities, its event time epoch + i×10ms, so the newest record of
// an entity is its highest i.
type fsGen struct {
	seed     uint64
	entities int
	src      *rand.PCG
	rnd      *rand.Rand
}

func newFSGen(seed uint64, entities int) *fsGen {
	src := rand.NewPCG(seed, 0)
	return &fsGen{seed: seed, entities: entities, src: src, rnd: rand.New(src)}
}

// fsEntityKey is entity e's customer_id (and online-store entity key: a
// single clean string key encodes as itself).
func fsEntityKey(e int) string { return fmt.Sprintf("cust-%07d", e) }

func (g *fsGen) record(i int64) fsRecord {
	g.src.Seed(g.seed^0x5eed, uint64(i))
	r := g.rnd
	rec := fsRecord{id: i, entity: fsEntityKey(r.IntN(g.entities)), ts: epoch.Add(time.Duration(i) * 10 * time.Millisecond)}
	for j := range rec.vals {
		switch j % 3 {
		case 0:
			rec.vals[j].f = float64(r.IntN(10_000_000)) / 100 // round-trips through JSON exactly
		case 1:
			rec.vals[j].i = r.Int64N(1_000_000_000)
		default:
			rec.vals[j].s = "v" + strconv.FormatUint(r.Uint64()>>28, 36)
		}
	}
	return rec
}

// appendJSON appends the record as the JSON ingestion receives.
func (rec *fsRecord) appendJSON(dst []byte, seed uint64) []byte {
	dst = append(dst, `{"event_id":"`...)
	dst = appendEventID(dst, seed^0xfea7, rec.id)
	dst = append(dst, `","customer_id":"`...)
	dst = append(dst, rec.entity...)
	dst = append(dst, `","event_ts":"`...)
	dst = rec.ts.AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	dst = append(dst, '"')
	for j, v := range rec.vals {
		dst = append(dst, `,"`...)
		dst = append(dst, fsFeatureName(j)...)
		dst = append(dst, `":`...)
		switch j % 3 {
		case 0:
			dst = strconv.AppendFloat(dst, v.f, 'g', -1, 64)
		case 1:
			dst = strconv.AppendInt(dst, v.i, 10)
		default:
			dst = strconv.AppendQuote(dst, v.s)
		}
	}
	return append(dst, '}')
}

// encoded returns feature j's value as the online store encodes it in a
// Redis hash field (see the package doc of the feature store's online
// store: 'd' + 8-byte little-endian IEEE 754, 'i' + zig-zag varint, 's' +
// UTF-8). The features benchmark checks that the floor's hashes equal the
// feature store's, so a drift of this copy fails the run.
func (rec *fsRecord) encoded(j int) string {
	var b [24]byte
	switch j % 3 {
	case 0:
		return string(binary.LittleEndian.AppendUint64(append(b[:0], 'd'), math.Float64bits(rec.vals[j].f)))
	case 1:
		return string(binary.AppendVarint(append(b[:0], 'i'), rec.vals[j].i))
	default:
		return "s" + rec.vals[j].s
	}
}

// hsetArgs are the HSET arguments of the record's latest row, as the
// online store writes them: __ts (unix ns), __seq, then one field per
// feature.
func (rec *fsRecord) hsetArgs(seq uint64) []any {
	args := make([]any, 0, 4+2*fsFeatures)
	args = append(args, "__ts", strconv.FormatInt(rec.ts.UnixNano(), 10), "__seq", strconv.FormatUint(seq, 10))
	for j := range fsFeatures {
		args = append(args, fsFeatureName(j), rec.encoded(j))
	}
	return args
}

// fsLatestKey is the online store's hash of an entity of view namespace ns
// ("<view>@<version>"): <prefix>fs:{<ns>}:<entity>.
func fsLatestKey(prefix, ns, entity string) string {
	return prefix + "fs:{" + ns + "}:" + entity
}

// fsContractYAML is the ODCS contract of the product: event_id (UUID
// primary key), customer_id, event_ts and the 20 feature fields.
func fsContractYAML() string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: v3.1.0
kind: DataContract
id: %[1]s.%[2]s
name: Benchmark customer profiles
version: 1.0.0
status: active
domain: %[1]s
dataProduct: %[2]s
description:
  purpose: Synthetic profile updates written by tools/bench (go run ./tools/bench features).
schema:
  - name: %[2]s
    physicalType: table
    properties:
      - name: event_id
        logicalType: string
        logicalTypeOptions:
          format: uuid
        required: true
        primaryKey: true
        primaryKeyPosition: 1
      - name: customer_id
        logicalType: string
        logicalTypeOptions:
          maxLength: 64
        required: true
      - name: event_ts
        logicalType: timestamp
        physicalType: timestamptz
        required: true
`, fsDomain, fsProduct)
	for j := range fsFeatures {
		typ := [...]string{"number", "integer", "string"}[j%3]
		fmt.Fprintf(&b, "      - name: %s\n        logicalType: %s\n        required: true\n", fsFeatureName(j), typ)
	}
	return b.String()
}

// fsFeaturesYAML is the features.yaml applied: entity customer and view
// profile with the 20 field features (no TTL).
func fsFeaturesYAML() string {
	var b strings.Builder
	fmt.Fprintf(&b, `domain: %[1]s
entities:
  - name: %[3]s
    join_keys: [{name: %[4]s, type: string}]
feature_views:
  - name: %[5]s
    entity: %[3]s
    source: {domain: %[1]s, product: %[2]s}
    timestamp_field: %[6]s
    features:
`, fsDomain, fsProduct, fsEntity, fsKey, fsView, fsTSField)
	for j := range fsFeatures {
		fmt.Fprintf(&b, "      - {name: %s, type: %s}\n", fsFeatureName(j), fsFeatureType(j))
	}
	return b.String()
}
