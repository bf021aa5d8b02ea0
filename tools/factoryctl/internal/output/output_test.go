package output

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/timestamppb"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

func testProduct() *catalogv1.DataProduct {
	return &catalogv1.DataProduct{
		Domain:        "sales",
		Name:          "orders",
		Title:         "Orders",
		Owner:         "alice",
		Tags:          []string{"orders", "revenue"},
		Status:        catalogv1.ProductStatus_PRODUCT_STATUS_ACTIVE,
		Compatibility: catalogv1.CompatibilityMode_COMPATIBILITY_MODE_FULL_TRANSITIVE,
		OutputPorts: []*catalogv1.OutputPort{
			{Name: "v1", Major: 1, LatestVersion: "1.2.0", Status: catalogv1.PortStatus_PORT_STATUS_DEPRECATED, Subject: "data.sales.orders.v1"},
			{Name: "v2", Major: 2, LatestVersion: "2.0.1", Status: catalogv1.PortStatus_PORT_STATUS_ACTIVE, Subject: "data.sales.orders.v2"},
		},
		CreateTime:      timestamppb.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
		Classifications: []catalogv1.Classification{catalogv1.Classification_CLASSIFICATION_PII},
		FieldNames:      []string{"orders.id", "orders.customer.email"},
	}
}

func testContract() *catalogv1.Contract {
	return &catalogv1.Contract{
		Id: "sales.orders", Domain: "sales", Product: "orders", Version: "1.2.0",
		Status: catalogv1.ContractStatus_CONTRACT_STATUS_ACTIVE,
		Sla:    &catalogv1.Sla{MaxFreshnessSeconds: 900, RetentionSeconds: 7 * 86400},
		Schema: []*catalogv1.SchemaObject{{
			Name: "orders",
			Properties: []*catalogv1.Field{
				{Name: "id", LogicalType: catalogv1.LogicalType_LOGICAL_TYPE_STRING, PhysicalType: "uuid", Required: true, PrimaryKey: true, PrimaryKeyPosition: 1},
				{Name: "total", LogicalType: catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL, Precision: 12, Scale: 2, Required: true},
				{Name: "customer", LogicalType: catalogv1.LogicalType_LOGICAL_TYPE_OBJECT, Properties: []*catalogv1.Field{
					{Name: "email", LogicalType: catalogv1.LogicalType_LOGICAL_TYPE_STRING, Classification: catalogv1.Classification_CLASSIFICATION_PII, Required: true},
					{Name: "country", LogicalType: catalogv1.LogicalType_LOGICAL_TYPE_STRING},
				}},
				{Name: "lines", LogicalType: catalogv1.LogicalType_LOGICAL_TYPE_ARRAY, Items: &catalogv1.Field{
					LogicalType: catalogv1.LogicalType_LOGICAL_TYPE_OBJECT,
					Properties: []*catalogv1.Field{
						{Name: "sku", LogicalType: catalogv1.LogicalType_LOGICAL_TYPE_STRING, Required: true},
					},
				}},
				{Name: "tags", LogicalType: catalogv1.LogicalType_LOGICAL_TYPE_ARRAY, Items: &catalogv1.Field{LogicalType: catalogv1.LogicalType_LOGICAL_TYPE_STRING}},
			},
		}},
	}
}

func TestTables(t *testing.T) {
	tests := []struct {
		name   string
		render func(*bytes.Buffer) error
		want   string
	}{
		{
			name: "products",
			render: func(b *bytes.Buffer) error {
				return ProductsTable(b, []*catalogv1.DataProduct{testProduct(), {Domain: "hr", Name: "staff"}})
			},
			want: `PRODUCT       TITLE   STATUS  COMPATIBILITY    OWNER  PORTS  TAGS
sales/orders  Orders  active  full_transitive  alice  v1,v2  orders,revenue
hr/staff                      backward
`,
		},
		{
			name:   "product detail with ports",
			render: func(b *bytes.Buffer) error { return ProductDetail(b, testProduct()) },
			want: `Product:          sales/orders
Title:            Orders
Owner:            alice
Status:           active
Compatibility:    full_transitive
Tags:             orders, revenue
Classifications:  pii
Fields:           2
Created:          2026-03-01T12:00:00Z

PORT  MAJOR  LATEST  STATUS      SUBJECT
v1    1      1.2.0   deprecated  data.sales.orders.v1
v2    2      2.0.1   active      data.sales.orders.v2
`,
		},
		{
			name:   "contract field listing with nested fields",
			render: func(b *bytes.Buffer) error { return ContractDetail(b, testContract()) },
			want: `Contract:  sales.orders
Product:   sales/orders
Version:   1.2.0
Status:    active
SLA:       freshness 15m, retention 7d

FIELD                    TYPE           PHYSICAL  REQUIRED  PK  CLASSIFICATION
orders.id                string         uuid      yes       1
orders.total             decimal(12,2)            yes
orders.customer          object
orders.customer.email    string                   yes           pii
orders.customer.country  string
orders.lines             array<object>
orders.lines[].sku       string                   yes
orders.tags              array<string>
`,
		},
		{
			name: "violations",
			render: func(b *bytes.Buffer) error {
				return ViolationsTable(b, []*catalogv1.Violation{
					{Field: "orders.customer.email", Rule: "field_removed", OldValue: "string", AgainstVersion: "1.0.0", Description: "readers of 1.0.0 need it"},
					{Field: "orders.status", Rule: "enum_narrowed", OldValue: "new,paid,shipped", NewValue: "new,paid", AgainstVersion: "1.1.0"},
				})
			},
			want: `FIELD                  RULE           CHANGE                       AGAINST  DESCRIPTION
orders.customer.email  field_removed  string → (none)              1.0.0    readers of 1.0.0 need it
orders.status          enum_narrowed  new,paid,shipped → new,paid  1.1.0
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.render(&b); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestPrintProductJSONAndYAML(t *testing.T) {
	p := testProduct()
	p.OutputPorts = p.OutputPorts[1:]
	p.FieldNames = nil
	p.Description = "true" // a string YAML must quote to keep it a string
	tests := []struct {
		format Format
		want   string
	}{
		{JSON, `{
  "domain": "sales",
  "name": "orders",
  "title": "Orders",
  "description": "true",
  "owner": "alice",
  "tags": [
    "orders",
    "revenue"
  ],
  "status": "PRODUCT_STATUS_ACTIVE",
  "compatibility": "COMPATIBILITY_MODE_FULL_TRANSITIVE",
  "outputPorts": [
    {
      "name": "v2",
      "major": 2,
      "latestVersion": "2.0.1",
      "status": "PORT_STATUS_ACTIVE",
      "subject": "data.sales.orders.v2"
    }
  ],
  "createTime": "2026-03-01T12:00:00Z",
  "classifications": [
    "CLASSIFICATION_PII"
  ]
}
`},
		{YAML, `domain: sales
name: orders
title: Orders
description: "true"
owner: alice
tags:
  - orders
  - revenue
status: PRODUCT_STATUS_ACTIVE
compatibility: COMPATIBILITY_MODE_FULL_TRANSITIVE
outputPorts:
  - name: v2
    major: 2
    latestVersion: 2.0.1
    status: PORT_STATUS_ACTIVE
    subject: data.sales.orders.v2
createTime: "2026-03-01T12:00:00Z"
classifications:
  - CLASSIFICATION_PII
`},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			for range 3 { // stable across calls
				var b bytes.Buffer
				if err := Print(&b, tt.format, p, func(io.Writer) error { return nil }); err != nil {
					t.Fatal(err)
				}
				if got := b.String(); got != tt.want {
					t.Fatalf("got:\n%s\nwant:\n%s", got, tt.want)
				}
			}
		})
	}
}

func TestYAMLKeepsStringsAndInt64(t *testing.T) {
	// int64 fields are JSON strings in protojson; they stay strings, quoted
	// so that reading the YAML back gives the same protojson.
	c := &catalogv1.Contract{Version: "1.0", Sla: &catalogv1.Sla{RetentionSeconds: 3600}, Tags: []string{"yes", "null", "007"}}
	b, err := MarshalYAML(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `version: "1.0"
tags:
  - yes
  - "null"
  - "007"
sla:
  retentionSeconds: "3600"
`
	if string(b) != want {
		t.Errorf("got:\n%s\nwant:\n%s", b, want)
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr string
	}{
		{"table", Table, ""},
		{"JSON", JSON, ""},
		{" Yaml ", YAML, ""},
		{"xml", "", `invalid output format "xml": allowed values are table, json, yaml`},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseFormat(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func withDetails(t *testing.T, st *status.Status, details ...protoadapt.MessageV1) error {
	t.Helper()
	st, err := st.WithDetails(details...)
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}

func TestWriteError(t *testing.T) {
	badRequest := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
		{Field: "domain.name", Description: "must be a lowercase DNS label"},
		{Field: "domain.owners[0]", Description: "must not be empty"},
	}}
	precondition := &errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{
		{Type: "field_removed", Subject: "orders.customer.email", Description: "string → (none), against 1.0.0"},
		{Type: "required_added", Subject: "orders.coupon", Description: "optional → required, against 1.0.0"},
	}}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{
			name: "bad request",
			err:  withDetails(t, status.New(codes.InvalidArgument, "invalid domain"), badRequest),
			want: `Error: InvalidArgument: invalid domain
  - domain.name: must be a lowercase DNS label
  - domain.owners[0]: must not be empty
`,
		},
		{
			name: "precondition failure",
			err:  withDetails(t, status.New(codes.FailedPrecondition, "contract 1.1.0 is not backward compatible"), precondition),
			want: `Error: FailedPrecondition: contract 1.1.0 is not backward compatible
  - orders.customer.email: field_removed: string → (none), against 1.0.0
  - orders.coupon: required_added: optional → required, against 1.0.0
`,
		},
		{
			name: "both, wrapped",
			err:  fmt.Errorf("publish: %w", withDetails(t, status.New(codes.FailedPrecondition, "rejected"), badRequest, precondition)),
			want: `Error: FailedPrecondition: rejected
  - domain.name: must be a lowercase DNS label
  - domain.owners[0]: must not be empty
  - orders.customer.email: field_removed: string → (none), against 1.0.0
  - orders.coupon: required_added: optional → required, against 1.0.0
`,
		},
		{
			name: "no details",
			err:  status.Error(codes.NotFound, `product "sales/orders" not found`),
			want: "Error: NotFound: product \"sales/orders\" not found\n",
		},
		{
			name: "plain error",
			err:  errors.New("read the contract: open x.yaml: no such file or directory"),
			want: "Error: read the contract: open x.yaml: no such file or directory\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			WriteError(&b, tt.err)
			if got := b.String(); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestWriteViolations(t *testing.T) {
	var b bytes.Buffer
	_ = WriteViolations(&b, []*catalogv1.Violation{
		{Field: "orders.customer.email", Rule: "field_removed", OldValue: "string", AgainstVersion: "1.0.0"},
		{Field: "orders.status", Rule: "enum_narrowed", OldValue: "new,paid,shipped", NewValue: "new,paid", AgainstVersion: "1.1.0", Description: "shipped is gone"},
	})
	want := `  - orders.customer.email  field_removed  string → (none)              against 1.0.0
  - orders.status          enum_narrowed  new,paid,shipped → new,paid  against 1.1.0  shipped is gone
`
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestCompatibleSummary(t *testing.T) {
	tests := []struct {
		resp *catalogv1.CheckCompatibilityResponse
		want string
	}{
		{&catalogv1.CheckCompatibilityResponse{Compatible: true, ComparedVersions: []string{"1.0.0", "1.1.0"}}, "compatible with 1.0.0, 1.1.0 under backward"},
		{&catalogv1.CheckCompatibilityResponse{Compatible: true}, "compatible: no earlier version in this major to compare with"},
		{&catalogv1.CheckCompatibilityResponse{Mode: catalogv1.CompatibilityMode_COMPATIBILITY_MODE_FULL, ComparedVersions: []string{"1.1.0"}, Violations: []*catalogv1.Violation{{}}}, "not compatible (1 violation) with 1.1.0 under full"},
	}
	for _, tt := range tests {
		if got := CompatibleSummary(tt.resp); got != tt.want {
			t.Errorf("CompatibleSummary() = %q, want %q", got, tt.want)
		}
	}
}
