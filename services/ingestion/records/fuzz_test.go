package records

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

// checkItems drains r and checks the reader's promises: every item is a
// JSON object or has Err, offsets never decrease and stay within the input,
// lines increase.
func checkItems(t *testing.T, r Reader, size int) {
	t.Helper()
	prevOff, prevLine := int64(0), int64(0)
	for n := 0; ; n++ {
		if n > size+1 {
			t.Fatalf("more items (%d) than input bytes (%d)", n, size)
		}
		it, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if it.Err == nil {
			var m map[string]any
			if it.JSON == nil || json.Unmarshal(it.JSON, &m) != nil {
				t.Fatalf("item is not a JSON object: %q", it.JSON)
			}
		} else if it.JSON != nil {
			t.Fatal("item with Err has JSON")
		}
		if it.Offset < prevOff || it.Offset > int64(size) {
			t.Fatalf("offset %d after %d (size %d)", it.Offset, prevOff, size)
		}
		if it.Line <= prevLine || it.NextLine <= it.Line-1 {
			t.Fatalf("line %d (next %d) after %d", it.Line, it.NextLine, prevLine)
		}
		prevOff, prevLine = it.Offset, it.Line
	}
}

func FuzzCSVReader(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n",
		"\xef\xbb\xbfa,b.c,b.d\r\n\"x,\"\"y\"\"\",\"l1\r\nl2\",\r\n",
		"a\n\"unterminated\n",
		"a,b\n1\n1,x\"y\n\n\"q\"z,2\n",
		"a.b,a\n",
		"a\n\xff\x00\n",
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(8))
	}
	f.Fuzz(func(t *testing.T, data []byte, max uint8) {
		r, err := NewCSVReader(bytes.NewReader(data), CSVOptions{MaxRecordBytes: int(max)})
		if err != nil {
			return
		}
		checkItems(t, r, len(data))
	})
}

func FuzzJSONLReader(f *testing.F) {
	for _, s := range []string{
		"{\"a\":1}\n{\"b\":[1,2]}\n",
		"\xef\xbb\xbf{}\r\n\r\n  \n[1]\nnull\n{\"x\":\"\xff\"}\n",
		"{\"a\":",
		"{}{}\n{} \n",
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(4))
	}
	f.Fuzz(func(t *testing.T, data []byte, max uint8) {
		checkItems(t, NewJSONLReader(bytes.NewReader(data), JSONLOptions{MaxRecordBytes: int(max)}), len(data))
	})
}
