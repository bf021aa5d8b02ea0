// Package ports exposes the feature store application as
// aifactory.featurestore.v1.FeatureStoreService. Handlers translate; the
// rules live in package app.
package ports

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"

	"github.com/aifactory/aifactory/libs/service"
	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
	"github.com/aifactory/aifactory/services/featurestore/internal/app"
)

// GRPCServer implements featurestorev1.FeatureStoreServiceServer.
type GRPCServer struct {
	featurestorev1.UnimplementedFeatureStoreServiceServer
	app *app.Service
}

// NewGRPCServer returns the gRPC handlers.
func NewGRPCServer(a *app.Service) *GRPCServer { return &GRPCServer{app: a} }

func (s *GRPCServer) Apply(ctx context.Context, req *featurestorev1.ApplyRequest) (*featurestorev1.ApplyResponse, error) {
	return s.app.Apply(ctx, req)
}

func (s *GRPCServer) ListEntities(context.Context, *featurestorev1.ListEntitiesRequest) (*featurestorev1.ListEntitiesResponse, error) {
	return &featurestorev1.ListEntitiesResponse{Entities: s.app.Entities()}, nil
}

func (s *GRPCServer) ListFeatureViews(_ context.Context, req *featurestorev1.ListFeatureViewsRequest) (*featurestorev1.ListFeatureViewsResponse, error) {
	return &featurestorev1.ListFeatureViewsResponse{FeatureViews: s.app.FeatureViews(req.GetEntity())}, nil
}

func (s *GRPCServer) ListFeatureServices(context.Context, *featurestorev1.ListFeatureServicesRequest) (*featurestorev1.ListFeatureServicesResponse, error) {
	return &featurestorev1.ListFeatureServicesResponse{FeatureServices: s.app.FeatureServices()}, nil
}

func (s *GRPCServer) GetFeatureView(_ context.Context, req *featurestorev1.GetFeatureViewRequest) (*featurestorev1.GetFeatureViewResponse, error) {
	v, err := s.app.FeatureView(req.GetName())
	if err != nil {
		return nil, err
	}
	return &featurestorev1.GetFeatureViewResponse{FeatureView: v}, nil
}

func (s *GRPCServer) GetFeatureService(_ context.Context, req *featurestorev1.GetFeatureServiceRequest) (*featurestorev1.GetFeatureServiceResponse, error) {
	fs, err := s.app.FeatureService(req.GetName())
	if err != nil {
		return nil, err
	}
	return &featurestorev1.GetFeatureServiceResponse{FeatureService: fs}, nil
}

func (s *GRPCServer) GetOnlineFeatures(ctx context.Context, req *featurestorev1.GetOnlineFeaturesRequest) (*featurestorev1.GetOnlineFeaturesResponse, error) {
	return s.app.GetOnlineFeatures(ctx, req)
}

// GetHistoricalFeatures reads the header and every row, then streams the
// joined rows back in order.
func (s *GRPCServer) GetHistoricalFeatures(stream grpc.BidiStreamingServer[featurestorev1.GetHistoricalFeaturesRequest, featurestorev1.GetHistoricalFeaturesResponse]) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	h := first.GetHeader()
	if h == nil {
		var v service.Violations
		v.Add("header", "the first message must be the header naming the features")
		return v.Err()
	}
	var rows []*featurestorev1.HistoricalRow
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		chunk := req.GetRows()
		var v service.Violations
		switch {
		case chunk == nil:
			v.Add("rows", "after the header, every message must carry rows")
		case len(chunk.GetRows()) > app.MaxRowsPerMessage:
			v.Add("rows", fmt.Sprintf("has %d rows; the limit is %d per message", len(chunk.GetRows()), app.MaxRowsPerMessage))
		case len(rows)+len(chunk.GetRows()) > app.MaxHistoricalRows:
			v.Add("rows", fmt.Sprintf("more than %d rows in one request; split the entity rows", app.MaxHistoricalRows))
		}
		if err := v.Err(); err != nil {
			return err
		}
		rows = append(rows, chunk.GetRows()...)
	}
	return s.app.GetHistoricalFeatures(stream.Context(), h, rows, stream.Send)
}

func (s *GRPCServer) Backfill(req *featurestorev1.BackfillRequest, stream grpc.ServerStreamingServer[featurestorev1.BackfillResponse]) error {
	return s.app.Backfill(stream.Context(), req, stream.Send)
}
