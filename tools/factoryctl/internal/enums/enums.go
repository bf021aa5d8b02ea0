// Package enums names protobuf enum values the way factoryctl shows and
// accepts them: lowercase, without the enum's prefix ("backward_transitive"
// for COMPATIBILITY_MODE_BACKWARD_TRANSITIVE), and provides pflag values
// that parse them case-insensitively.
package enums

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// prefix returns the common prefix of the enum's value names, taken from its
// zero value: "COMPATIBILITY_MODE_" from COMPATIBILITY_MODE_UNSPECIFIED.
func prefix(d protoreflect.EnumDescriptor) string {
	zero := d.Values().ByNumber(0)
	if zero == nil {
		return ""
	}
	name := string(zero.Name())
	if i := strings.LastIndex(name, "_"); i >= 0 {
		return name[:i+1]
	}
	return ""
}

// Name returns the short lowercase name of v, e.g. "pii"; "" for the zero
// (unspecified) value, and the number for values the descriptor does not
// know (a newer server).
func Name(v protoreflect.Enum) string {
	if v.Number() == 0 {
		return ""
	}
	d := v.Descriptor()
	ev := d.Values().ByNumber(v.Number())
	if ev == nil {
		return fmt.Sprint(int32(v.Number()))
	}
	return strings.ToLower(strings.TrimPrefix(string(ev.Name()), prefix(d)))
}

// Allowed lists the short names of d's values, in declaration order,
// without the unspecified one.
func Allowed(d protoreflect.EnumDescriptor) []string {
	p := prefix(d)
	var out []string
	for i := 0; i < d.Values().Len(); i++ {
		ev := d.Values().Get(i)
		if ev.Number() == 0 {
			continue
		}
		out = append(out, strings.ToLower(strings.TrimPrefix(string(ev.Name()), p)))
	}
	return out
}

// Parse maps s — a short name ("full_transitive"), case-insensitive, with
// '-' accepted for '_', or the full value name — to its number. The error
// lists the allowed values.
func Parse(d protoreflect.EnumDescriptor, s string) (protoreflect.EnumNumber, error) {
	norm := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))
	p := prefix(d)
	for i := 0; i < d.Values().Len(); i++ {
		ev := d.Values().Get(i)
		if ev.Number() == 0 {
			continue
		}
		if name := string(ev.Name()); norm == name || p+norm == name {
			return ev.Number(), nil
		}
	}
	return 0, fmt.Errorf("invalid value %q: allowed values are %s", s, strings.Join(Allowed(d), ", "))
}

// Value is a pflag.Value holding one enum value of type E, parsed with
// Parse. Its zero value means "not set".
type Value[E ~int32] struct {
	desc protoreflect.EnumDescriptor
	v    E
	set  bool
}

// NewValue returns a Value for the enum type described by d, e.g.
// enums.NewValue[catalogv1.Classification](catalogv1.Classification(0).Descriptor()).
func NewValue[E ~int32](d protoreflect.EnumDescriptor) *Value[E] {
	return &Value[E]{desc: d}
}

// Set parses s; it is called by pflag.
func (v *Value[E]) Set(s string) error {
	n, err := Parse(v.desc, s)
	if err != nil {
		return err
	}
	v.v, v.set = E(n), true
	return nil
}

// String returns the short name of the current value.
func (v *Value[E]) String() string {
	if v == nil || !v.set {
		return ""
	}
	n := v.desc.Values().ByNumber(protoreflect.EnumNumber(v.v))
	return strings.ToLower(strings.TrimPrefix(string(n.Name()), prefix(v.desc)))
}

// Type names the value in help texts.
func (v *Value[E]) Type() string { return "string" }

// Usage appends the allowed values to a flag's help text.
func (v *Value[E]) Usage(text string) string {
	return text + ": " + strings.Join(Allowed(v.desc), ", ")
}

// Get returns the value and whether the flag was set.
func (v *Value[E]) Get() (E, bool) { return v.v, v.set }
