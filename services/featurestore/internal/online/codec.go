package online

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Type tags of encoded values (see the package doc).
const (
	tagNull      = 0x00
	tagString    = 's'
	tagInt64     = 'i'
	tagDouble    = 'd'
	tagTrue      = 'T'
	tagFalse     = 'F'
	tagTimestamp = 't'
)

var errCorrupt = errors.New("corrupt encoded value")

// appendValue appends the encoding of v (nil or kind-less means null).
func appendValue(b []byte, v *featurestorev1.Value) []byte {
	switch k := v.GetKind().(type) {
	case *featurestorev1.Value_StringValue:
		b = append(b, tagString)
		return append(b, k.StringValue...)
	case *featurestorev1.Value_Int64Value:
		return binary.AppendVarint(append(b, tagInt64), k.Int64Value)
	case *featurestorev1.Value_DoubleValue:
		return binary.LittleEndian.AppendUint64(append(b, tagDouble), math.Float64bits(k.DoubleValue))
	case *featurestorev1.Value_BoolValue:
		if k.BoolValue {
			return append(b, tagTrue)
		}
		return append(b, tagFalse)
	case *featurestorev1.Value_TimestampValue:
		b = binary.AppendVarint(append(b, tagTimestamp), k.TimestampValue.GetSeconds())
		return binary.AppendVarint(b, int64(k.TimestampValue.GetNanos()))
	default:
		return append(b, tagNull)
	}
}

// encodeValue returns the encoding of v as a string (the form Redis
// commands and the memory store take).
func encodeValue(v *featurestorev1.Value) string {
	var buf [16]byte
	return string(appendValue(buf[:0], v))
}

// decodeValue decodes one value encoded by appendValue into a fresh Value.
func decodeValue(s string) (*featurestorev1.Value, error) {
	return (&valueAlloc{hint: 1}).decode(s)
}

// valueAlloc hands out Values and their oneof wrappers from slabs, so a
// read of n values costs a handful of allocations instead of 2n.
type valueAlloc struct {
	hint  int // slab size
	vals  []featurestorev1.Value
	strs  []featurestorev1.Value_StringValue
	ints  []featurestorev1.Value_Int64Value
	dbls  []featurestorev1.Value_DoubleValue
	bools []featurestorev1.Value_BoolValue
}

func newValueAlloc(n int) *valueAlloc { return &valueAlloc{hint: max(1, min(n, 1024))} }

func take[T any](a *valueAlloc, slab *[]T) *T {
	if len(*slab) == 0 {
		*slab = make([]T, a.hint)
	}
	p := &(*slab)[0]
	*slab = (*slab)[1:]
	return p
}

// decode decodes one value encoded by appendValue. The string payload
// shares s's memory (strings are immutable).
func (a *valueAlloc) decode(s string) (*featurestorev1.Value, error) {
	if s == "" {
		return nil, errCorrupt
	}
	v := take(a, &a.vals)
	switch s[0] {
	case tagNull:
		if len(s) != 1 {
			return nil, errCorrupt
		}
	case tagString:
		w := take(a, &a.strs)
		w.StringValue = s[1:]
		v.Kind = w
	case tagInt64:
		x, n := varint(s[1:])
		if n <= 0 || 1+n != len(s) {
			return nil, errCorrupt
		}
		w := take(a, &a.ints)
		w.Int64Value = x
		v.Kind = w
	case tagDouble:
		if len(s) != 9 {
			return nil, errCorrupt
		}
		bits := uint64(s[1]) | uint64(s[2])<<8 | uint64(s[3])<<16 | uint64(s[4])<<24 |
			uint64(s[5])<<32 | uint64(s[6])<<40 | uint64(s[7])<<48 | uint64(s[8])<<56
		w := take(a, &a.dbls)
		w.DoubleValue = math.Float64frombits(bits)
		v.Kind = w
	case tagTrue, tagFalse:
		if len(s) != 1 {
			return nil, errCorrupt
		}
		w := take(a, &a.bools)
		w.BoolValue = s[0] == tagTrue
		v.Kind = w
	case tagTimestamp:
		sec, n := varint(s[1:])
		if n <= 0 {
			return nil, errCorrupt
		}
		nanos, m := varint(s[1+n:])
		if m <= 0 || 1+n+m != len(s) || nanos < math.MinInt32 || nanos > math.MaxInt32 {
			return nil, errCorrupt
		}
		v.Kind = &featurestorev1.Value_TimestampValue{TimestampValue: &timestamppb.Timestamp{Seconds: sec, Nanos: int32(nanos)}}
	default:
		return nil, errCorrupt
	}
	return v, nil
}

// uvarint decodes a uvarint from the start of s, like binary.Uvarint
// (n <= 0 on error), without converting s to a byte slice.
func uvarint(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -(i + 1) // overflow
			}
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

func varint(s string) (int64, int) {
	ux, n := uvarint(s)
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x, n
}

// eventMember encodes an event as its sorted-set member:
// <id> "|" <8-byte big-endian unix nanos> <count> (<len> <value>)*.
func eventMember(e *AggEvent) string {
	b := make([]byte, 0, len(e.ID)+10+len(e.Inputs)*10)
	b = append(b, e.ID...)
	b = append(b, '|')
	b = binary.BigEndian.AppendUint64(b, uint64(e.EventTime.UnixNano()))
	b = binary.AppendUvarint(b, uint64(len(e.Inputs)))
	var scratch [16]byte
	for _, v := range e.Inputs {
		enc := appendValue(scratch[:0], v)
		b = binary.AppendUvarint(b, uint64(len(enc)))
		b = append(b, enc...)
	}
	return string(b)
}

// parseMember decodes a member written by eventMember, taking input Values
// from a; entity is filled in by the caller.
func parseMember(m string, a *valueAlloc) (AggEvent, error) {
	var e AggEvent
	bar := -1
	for i := 0; i < len(m); i++ {
		if m[i] == '|' {
			bar = i
			break
		}
	}
	if bar <= 0 || len(m) < bar+1+8 {
		return e, fmt.Errorf("event member: %w", errCorrupt)
	}
	e.ID = m[:bar]
	rest := m[bar+1:]
	ns := binary.BigEndian.Uint64([]byte(rest[:8]))
	e.EventTime = time.Unix(0, int64(ns)).UTC()
	rest = rest[8:]
	count, n := uvarint(rest)
	if n <= 0 || count > uint64(len(rest)) {
		return e, fmt.Errorf("event %q: %w", e.ID, errCorrupt)
	}
	rest = rest[n:]
	if count > 0 {
		e.Inputs = make([]*featurestorev1.Value, count)
	}
	for i := range e.Inputs {
		l, n := uvarint(rest)
		if n <= 0 || l > uint64(len(rest)-n) {
			return e, fmt.Errorf("event %q input %d: %w", e.ID, i, errCorrupt)
		}
		v, err := a.decode(rest[n : n+int(l)])
		if err != nil {
			return e, fmt.Errorf("event %q input %d: %w", e.ID, i, err)
		}
		e.Inputs[i] = v
		rest = rest[n+int(l):]
	}
	if rest != "" {
		return e, fmt.Errorf("event %q: trailing bytes: %w", e.ID, errCorrupt)
	}
	return e, nil
}
