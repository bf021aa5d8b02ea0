// Package lineage emits OpenLineage RunEvents (START, COMPLETE, FAIL) for
// ingestion runs — a file load or a stream session — on lineage.>, so any
// OpenLineage consumer (Marquez, DataHub, …) can show which input fed which
// data product, with row counts.
package lineage

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aifactory/aifactory/libs/bus"
)

// OpenLineage spec URLs the events declare.
const (
	Producer         = "https://github.com/aifactory/aifactory/services/ingestion"
	RunEventSchema   = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
	outputStatsURL   = "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json"
	jobTypeURL       = "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json"
	errorMessageURL  = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json"
	rejectedStatsURL = "https://github.com/aifactory/aifactory/blob/main/docs/ingestion.md#observability"
	Namespace        = "aifactory"
)

// Event types.
const (
	Start    = "START"
	Complete = "COMPLETE"
	Fail     = "FAIL"
)

// RunEvent is an OpenLineage RunEvent.
type RunEvent struct {
	EventType string    `json:"eventType"`
	EventTime string    `json:"eventTime"`
	Producer  string    `json:"producer"`
	SchemaURL string    `json:"schemaURL"`
	Run       Run       `json:"run"`
	Job       Job       `json:"job"`
	Inputs    []Dataset `json:"inputs"`
	Outputs   []Dataset `json:"outputs"`
}

// Run identifies the run.
type Run struct {
	RunID  string         `json:"runId"`
	Facets map[string]any `json:"facets,omitempty"`
}

// Job is the recurring job the run belongs to.
type Job struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Facets    map[string]any `json:"facets,omitempty"`
}

// Dataset is an input or output dataset.
type Dataset struct {
	Namespace    string         `json:"namespace"`
	Name         string         `json:"name"`
	Facets       map[string]any `json:"facets,omitempty"`
	OutputFacets map[string]any `json:"outputFacets,omitempty"`
	InputFacets  map[string]any `json:"inputFacets,omitempty"`
}

// Counts are the row counts of a run so far.
type Counts struct {
	Stored, Duplicates, Rejected, Errors int64
	Bytes                                int64
}

// Run describes one ingestion run.
type RunInfo struct {
	RunID   string
	Domain  string
	Product string
	Port    string
	// Source names the input: a file name, or "" for a client stream.
	Source    string
	Principal string
}

// Build returns the RunEvent of the given type for a run.
func Build(eventType string, r RunInfo, c Counts, errMsg string, now time.Time) RunEvent {
	ev := RunEvent{
		EventType: eventType,
		EventTime: now.UTC().Format(time.RFC3339Nano),
		Producer:  Producer,
		SchemaURL: RunEventSchema,
		Run:       Run{RunID: r.RunID},
		Job: Job{
			Namespace: Namespace,
			Name:      "ingest." + r.Domain + "." + r.Product,
			Facets: map[string]any{
				"jobType": map[string]any{
					"_producer": Producer, "_schemaURL": jobTypeURL,
					"processingType": "STREAMING", "integration": "AIFACTORY", "jobType": "INGESTION",
				},
			},
		},
		Inputs: []Dataset{input(r)},
		Outputs: []Dataset{{
			Namespace: Namespace,
			Name:      r.Domain + "." + r.Product + "." + r.Port,
		}},
	}
	if eventType != Start {
		ev.Outputs[0].OutputFacets = map[string]any{
			"outputStatistics": map[string]any{
				"_producer": Producer, "_schemaURL": outputStatsURL,
				"rowCount": c.Stored, "size": c.Bytes,
			},
			"aifactory_ingestion": map[string]any{
				"_producer": Producer, "_schemaURL": rejectedStatsURL,
				"stored": c.Stored, "duplicates": c.Duplicates, "rejected": c.Rejected, "errors": c.Errors,
			},
		}
	}
	if errMsg != "" {
		ev.Run.Facets = map[string]any{
			"errorMessage": map[string]any{
				"_producer": Producer, "_schemaURL": errorMessageURL,
				"message": errMsg, "programmingLanguage": "go",
			},
		}
	}
	return ev
}

func input(r RunInfo) Dataset {
	if r.Source != "" {
		return Dataset{Namespace: "file", Name: r.Source}
	}
	who := r.Principal
	if who == "" {
		who = "anonymous"
	}
	return Dataset{Namespace: "aifactory-client", Name: who}
}

// Subject is where a product's lineage events go.
func Subject(domain, product string) string { return "lineage.ingestion." + domain + "." + product }

// Emit publishes ev on the LINEAGE stream.
func Emit(ctx context.Context, b *bus.Bus, r RunInfo, ev RunEvent) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = b.Publish(ctx, Subject(r.Domain, r.Product), bus.Event{
		ID:          r.RunID + ":" + ev.EventType,
		Type:        "io.openlineage.RunEvent",
		Subject:     r.Domain + "/" + r.Product,
		ContentType: bus.ContentTypeJSON,
		Data:        data,
	})
	return err
}
