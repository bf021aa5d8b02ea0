// Package output renders what factoryctl prints: protobuf messages as
// tables, JSON or YAML, and gRPC errors with their details.
package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Format is an output format selected with -o.
type Format string

// The output formats.
const (
	Table Format = "table"
	JSON  Format = "json"
	YAML  Format = "yaml"
)

// Formats lists the accepted formats in the order help texts show them.
var Formats = []Format{Table, JSON, YAML}

// ParseFormat parses a -o value, case-insensitively.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	for _, ok := range Formats {
		if f == ok {
			return f, nil
		}
	}
	return "", fmt.Errorf("invalid output format %q: allowed values are table, json, yaml", s)
}

// Print writes msg in format f: JSON or YAML of the message itself, or, for
// Table, whatever table renders.
func Print(w io.Writer, f Format, msg proto.Message, table func(io.Writer) error) error {
	switch f {
	case JSON:
		return WriteJSON(w, msg)
	case YAML:
		return WriteYAML(w, msg)
	default:
		return table(w)
	}
}

// MarshalJSON renders msg as indented protojson with field names in
// lowerCamelCase, unpopulated fields left out. The output is stable:
// protojson deliberately varies its whitespace between builds, so the
// compact form is re-indented here.
func MarshalJSON(msg proto.Message) ([]byte, error) {
	b, err := protojson.MarshalOptions{EmitUnpopulated: false}.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("marshal %s as JSON: %w", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return nil, fmt.Errorf("indent JSON: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// WriteJSON writes MarshalJSON(msg) to w.
func WriteJSON(w io.Writer, msg proto.Message) error {
	b, err := MarshalJSON(msg)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// MarshalYAML renders msg as YAML with the same keys, values and key order
// as MarshalJSON (the protojson mapping), in block style.
func MarshalYAML(msg proto.Message) ([]byte, error) {
	b, err := protojson.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	// JSON is YAML: decoding into a yaml.Node keeps the key order, and
	// clearing the flow/quoted styles makes the encoder choose block style
	// and quote only where a plain scalar would change its meaning.
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("convert JSON to YAML: %w", err)
	}
	clearStyle(&doc)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	return buf.Bytes(), nil
}

func clearStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		clearStyle(c)
	}
}

// WriteYAML writes MarshalYAML(msg) to w.
func WriteYAML(w io.Writer, msg proto.Message) error {
	b, err := MarshalYAML(msg)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// writeAligned aligns the tab-separated cells of lines into columns two
// spaces apart and writes them without trailing blanks (which empty last
// cells would otherwise leave).
func writeAligned(w io.Writer, lines [][]string) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	for _, l := range lines {
		fmt.Fprintln(tw, strings.Join(sanitize(l), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var out strings.Builder
	for line := range strings.Lines(buf.String()) {
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// WriteTable writes an aligned table with an upper-case header row.
func WriteTable(w io.Writer, header []string, rows [][]string) error {
	return writeAligned(w, append([][]string{header}, rows...))
}

// WriteFields writes "Key:  value" lines, aligned, skipping empty values.
func WriteFields(w io.Writer, kv [][2]string) error {
	var lines [][]string
	for _, p := range kv {
		if p[1] != "" {
			lines = append(lines, []string{p[0] + ":", p[1]})
		}
	}
	return writeAligned(w, lines)
}

// sanitize keeps cells on one line and free of tabs, which would break the
// alignment.
func sanitize(row []string) []string {
	out := make([]string, len(row))
	for i, c := range row {
		out[i] = oneLine(c)
	}
	return out
}

func oneLine(s string) string {
	return strings.NewReplacer("\t", " ", "\r\n", " ", "\n", " ").Replace(s)
}

// Time formats a timestamp as RFC 3339 in UTC; "" when unset.
func Time(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}

// List joins values with ", ".
func List(vs []string) string { return strings.Join(vs, ", ") }

// Truncate shortens s to at most n runes, ending with "…" when cut.
func Truncate(s string, n int) string {
	r := []rune(oneLine(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

// FormatValue is the pflag.Value behind -o/--output.
type FormatValue struct{ F Format }

// Set parses s with ParseFormat; it is called by pflag.
func (v *FormatValue) Set(s string) error {
	f, err := ParseFormat(s)
	if err != nil {
		return err
	}
	v.F = f
	return nil
}

func (v *FormatValue) String() string { return string(v.F) }

// Type names the value in help texts.
func (v *FormatValue) Type() string { return "table|json|yaml" }
