package trainingset

import (
	"encoding/csv"
	"fmt"
	"io"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

// csvWriter writes RFC 4180 CSV with a header row.
type csvWriter struct {
	w      *csv.Writer
	nIn    int
	nFeat  int
	record []string
}

func newCSV(w io.Writer, input []string, features []Column) (*csvWriter, error) {
	cw := &csvWriter{w: csv.NewWriter(w), nIn: len(input), nFeat: len(features)}
	header := make([]string, 0, len(input)+len(features))
	header = append(header, input...)
	for _, c := range features {
		header = append(header, c.Name)
	}
	if err := cw.w.Write(header); err != nil {
		return nil, err
	}
	cw.record = make([]string, len(header))
	return cw, nil
}

func (cw *csvWriter) Write(input []string, features []*featurestorev1.Value) error {
	if len(input) != cw.nIn || len(features) != cw.nFeat {
		return fmt.Errorf("row has %d input and %d feature values; the file has %d and %d columns", len(input), len(features), cw.nIn, cw.nFeat)
	}
	copy(cw.record, input)
	for i, v := range features {
		cw.record[cw.nIn+i], _ = Text(v) // null: empty cell
	}
	return cw.w.Write(cw.record)
}

func (cw *csvWriter) Close() error {
	cw.w.Flush()
	return cw.w.Error()
}
