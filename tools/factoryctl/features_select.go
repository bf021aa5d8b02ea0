package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

// featureSelection is the --service and --features flags of online and
// historical: a feature service or explicit "view:feature" references.
type featureSelection struct {
	service  string
	features []string
}

func addFeatureSelectionFlags(cmd *cobra.Command) *featureSelection {
	sel := &featureSelection{}
	f := cmd.Flags()
	f.StringVar(&sel.service, "service", "", "feature service naming the features")
	f.StringSliceVar(&sel.features, "features", nil, "features as view:feature, comma-separated or repeated")
	cmd.MarkFlagsMutuallyExclusive("service", "features")
	return sel
}

// check validates the selection as a usage error.
func (sel *featureSelection) check() error {
	if sel.service == "" && len(sel.features) == 0 {
		return usageErrorf("name the features: --service NAME or --features view:feature,...")
	}
	for _, r := range sel.features {
		view, feature, ok := strings.Cut(r, ":")
		if !ok || view == "" || feature == "" || strings.Contains(feature, ":") {
			return usageErrorf("invalid feature reference %q in --features: want view:feature, e.g. customer_orders:spend_7d", r)
		}
	}
	return nil
}

// featurePlan is what the client needs to know about the selected
// features: their views and the join keys, with types, of their entities.
type featurePlan struct {
	// refs are the "view:feature" references, the service's when a service
	// was named.
	refs  []string
	views map[string]*featurestorev1.FeatureView
	// joinKeys are the join keys of the entities of the selected views, in
	// the order of the views and of each entity's keys, without repeats.
	joinKeys []*featurestorev1.JoinKey
	keyTypes map[string]featurestorev1.ValueType
}

// resolveFeatures looks up the selected features' views and entities, each
// call bounded by --timeout. A view that does not exist is NotFound.
func (a *app) resolveFeatures(cmd *cobra.Command, cl featurestorev1.FeatureStoreServiceClient, sel *featureSelection) (*featurePlan, error) {
	p := &featurePlan{refs: sel.features, views: map[string]*featurestorev1.FeatureView{}, keyTypes: map[string]featurestorev1.ValueType{}}
	if sel.service != "" {
		resp, err := unary(a, cmd, cl.GetFeatureService, &featurestorev1.GetFeatureServiceRequest{Name: sel.service})
		if err != nil {
			return nil, err
		}
		p.refs = resp.GetFeatureService().GetFeatures()
	}
	views, err := unary(a, cmd, cl.ListFeatureViews, &featurestorev1.ListFeatureViewsRequest{})
	if err != nil {
		return nil, err
	}
	entities, err := unary(a, cmd, cl.ListEntities, &featurestorev1.ListEntitiesRequest{})
	if err != nil {
		return nil, err
	}
	byName := map[string]*featurestorev1.FeatureView{}
	for _, v := range views.GetFeatureViews() {
		byName[v.GetName()] = v
	}
	entityByName := map[string]*featurestorev1.Entity{}
	for _, e := range entities.GetEntities() {
		entityByName[e.GetName()] = e
	}
	for _, r := range p.refs {
		name, _, _ := strings.Cut(r, ":")
		if _, ok := p.views[name]; ok {
			continue
		}
		v := byName[name]
		if v == nil {
			return nil, status.Errorf(codes.NotFound, "feature view %q (of %s) not found", name, r)
		}
		p.views[name] = v
		for _, k := range entityByName[v.GetEntity()].GetJoinKeys() {
			if _, ok := p.keyTypes[k.GetName()]; !ok {
				p.keyTypes[k.GetName()] = k.GetType()
				p.joinKeys = append(p.joinKeys, k)
			}
		}
	}
	return p, nil
}

// featureType is the type of the values a feature yields: an aggregation's
// result type where it has a fixed one, else the declared type;
// unspecified when the feature is not known.
func (p *featurePlan) featureType(ref string) featurestorev1.ValueType {
	view, name, _ := strings.Cut(ref, ":")
	for _, f := range p.views[view].GetFeatures() {
		if f.GetName() != name {
			continue
		}
		switch f.GetAggregation() {
		case featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_COUNT, featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_DISTINCT_COUNT:
			return featurestorev1.ValueType_VALUE_TYPE_INT64
		case featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_AVG, featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_DAYS_SINCE_LAST:
			return featurestorev1.ValueType_VALUE_TYPE_DOUBLE
		}
		return f.GetType()
	}
	return featurestorev1.ValueType_VALUE_TYPE_UNSPECIFIED
}

// ctxErr turns the cancellation of ctx by the user into "interrupted".
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil && status.Code(err) == codes.Canceled {
		return errInterrupted
	}
	return err
}
