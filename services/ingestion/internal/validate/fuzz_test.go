package validate

import (
	"encoding/json"
	"reflect"
	"testing"
)

func FuzzValidate(f *testing.F) {
	s := mustCompile(f, richContract())
	for _, seed := range []string{
		validRich,
		`{}`,
		`{"order_id":"O-1","line_no":"2","quantity":"","price":" 1.5 ","paid":"yes","destination":"{\"country\":\"DE\",\"postal_code\":\"1\"}","lines":"[{\"sku\":\"SKU-1\",\"qty\":\"2\"}]","created_at":"2025-03-01 10:00:00+01:00"}`,
		`{"lines":[{"sku":"SKU-1"},null,{"qty":"x"}],"tags":[[],{}],"zz":[1,2,{"a":null}]}`,
		`{"price":1e400,"quantity":-9223372036854775808,"weight":-0.0e-5}`,
		`{"note":"\ud83d\ude00\u0000","order_id":"\ud800"}`,
		"{\"note\":\"\xff\"}",
		`[1]`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, coerce bool) {
		opts := Options{CoerceText: coerce, EventTimeField: "created_at"}
		in := append([]byte(nil), data...)
		r := s.Validate(data, opts)
		again := s.Validate(data, opts)
		if string(data) != string(in) {
			t.Fatal("Validate changed its input")
		}
		if !reflect.DeepEqual(brief(r.Violations), brief(again.Violations)) || string(r.Record) != string(again.Record) ||
			!reflect.DeepEqual(r.PrimaryKey, again.PrimaryKey) || !r.EventTime.Equal(again.EventTime) || (r.Err == nil) != (again.Err == nil) {
			t.Fatal("Validate is not deterministic")
		}
		if r.Err != nil {
			if r.Violations != nil || r.Record != nil {
				t.Fatal("malformed record with violations or a record")
			}
			return
		}
		if !json.Valid(r.Record) {
			t.Fatalf("Record is not valid JSON: %q", r.Record)
		}
		for _, v := range r.Violations {
			if v.Field == "" || v.Rule == "" || v.Description == "" || len(v.Value) > MaxValueBytes {
				t.Fatalf("bad violation %v", v)
			}
		}
		if len(r.PrimaryKey) != 2 {
			t.Fatalf("PrimaryKey = %q", r.PrimaryKey)
		}
		// A record that passes with coercion passes as stored, without it.
		if coerce && len(r.Violations) == 0 {
			st := s.Validate(r.Record, Options{EventTimeField: "created_at"})
			if !st.Valid() || !reflect.DeepEqual(st.PrimaryKey, r.PrimaryKey) || !st.EventTime.Equal(r.EventTime) {
				t.Fatalf("coerced record %s fails without coercion: %v %v", r.Record, st.Err, brief(st.Violations))
			}
		}
	})
}
