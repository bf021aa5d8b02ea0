package online

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
	"github.com/redis/go-redis/v9"
)

// Client timeouts set by RedisClient unless the URL sets them: a call
// against a down or frozen Redis fails in about a second, not minutes.
const (
	redisDialTimeout = 500 * time.Millisecond
	redisIOTimeout   = 500 * time.Millisecond
	redisPoolTimeout = time.Second
)

// RedisClient returns a client for a redis:// or rediss:// URL with the
// timeouts the online store relies on: 500 ms dial, read and write
// timeouts, one retry, one dial attempt per connection, and a 1 s pool
// wait. Query parameters of the URL (dial_timeout, read_timeout,
// max_retries, pool_size, …) override these defaults.
func RedisClient(url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("online: parse redis url: %w", err)
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = redisDialTimeout
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = redisIOTimeout
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = redisIOTimeout
	}
	if opt.MaxRetries == 0 {
		// One retry lets a call survive a pooled connection that died while
		// Redis restarted; more would only delay reporting an outage.
		opt.MaxRetries = 1
	}
	if opt.DialerRetries == 0 {
		opt.DialerRetries = 1 // the default 5 attempts × 100 ms would add half a second
	}
	if opt.PoolTimeout == 0 {
		opt.PoolTimeout = redisPoolTimeout
	}
	// PoolSize keeps go-redis's default of 10 per GOMAXPROCS: reads are one
	// pipelined round trip each, so that covers the request concurrency.
	return redis.NewClient(opt), nil
}

// RedisOptions configures NewRedis.
type RedisOptions struct {
	// Prefix is prepended to every key (e.g. "prod:" or a random per-test
	// prefix). It must not contain '{' or '}' (hash tags).
	Prefix string
}

// Redis is the Store on Redis or Redis Cluster. See the package doc for
// the key layout.
type Redis struct {
	c      redis.UniversalClient
	prefix string
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Store on client, which it takes over: Close closes
// the client. It does no I/O (use Ping to check the server), so a service
// can start while Redis is down.
func NewRedis(client redis.UniversalClient, opts RedisOptions) (*Redis, error) {
	if client == nil {
		return nil, invalid("nil redis client")
	}
	if strings.ContainsAny(opts.Prefix, "{}") {
		return nil, invalid("redis key prefix %q contains '{' or '}'", opts.Prefix)
	}
	return &Redis{c: client, prefix: opts.Prefix}, nil
}

func (s *Redis) latestKey(view, entity string) string {
	return s.prefix + "fs:{" + view + "}:" + entity
}

func (s *Redis) eventsKey(view, entity string) string {
	return s.prefix + "fse:{" + view + "}:" + entity
}

// putLatestScript applies one row if its (ts, seq) is newer than the stored
// one. KEYS[1] = hash; ARGV = ts, seq, field1, value1, …. ts and seq are
// decimal integers compared as strings: Lua numbers are float64, too narrow
// for unix nanoseconds and uint64 sequences. Returns 1 when applied.
var putLatestScript = redis.NewScript(`
local function cmp(a, b)
  if a == b then return 0 end
  local na, nb = string.byte(a, 1) == 45, string.byte(b, 1) == 45
  if na ~= nb then
    if na then return -1 end
    return 1
  end
  local r
  if #a ~= #b then
    if #a < #b then r = -1 else r = 1 end
  elseif a < b then r = -1 else r = 1 end
  if na then r = -r end
  return r
end
local cur = redis.call('HMGET', KEYS[1], '__ts', '__seq')
if cur[1] then
  local c = cmp(ARGV[1], cur[1])
  if c < 0 or (c == 0 and cmp(ARGV[2], cur[2] or '0') <= 0) then return 0 end
end
local n = #ARGV
if n <= 1000 then
  redis.call('HSET', KEYS[1], '__ts', ARGV[1], '__seq', ARGV[2], unpack(ARGV, 3))
  return 1
end
redis.call('HSET', KEYS[1], '__ts', ARGV[1], '__seq', ARGV[2])
local i = 3
while i <= n do
  local j = math.min(i + 999, n)
  redis.call('HSET', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
return 1
`)

// addEventsScript adds events to one entity's sorted set and trims it.
// KEYS[1] = sorted set; ARGV[1] = window in microseconds ("0": no trim);
// ARGV[2…] = score, member pairs. Scores are integers below 2^53, exact
// in Lua numbers; '%.0f' formats the cutoff without losing digits.
var addEventsScript = redis.NewScript(`
local n = #ARGV
local i = 2
while i <= n do
  local j = math.min(i + 999, n)
  redis.call('ZADD', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
if ARGV[1] ~= '0' then
  local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  if top[2] then
    local cutoff = tonumber(top[2]) - tonumber(ARGV[1])
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', cutoff))
  end
end
return 0
`)

type scriptCall struct {
	key  string
	args []any
}

// runScripts runs one script call per key in one pipeline (EVALSHA). Calls
// that fail with NOSCRIPT (empty script cache after a restart or a
// failover) are re-run once after SCRIPT LOAD; the scripts are idempotent.
func (s *Redis) runScripts(ctx context.Context, op string, sc *redis.Script, calls []scriptCall) error {
	for attempt := 0; len(calls) > 0; attempt++ {
		pipe := s.c.Pipeline()
		cmds := make([]*redis.Cmd, len(calls))
		for i, c := range calls {
			cmds[i] = sc.EvalSha(ctx, pipe, []string{c.key}, c.args...)
		}
		_, err := pipe.Exec(ctx)
		if err == nil {
			return nil
		}
		var retry []scriptCall
		for i, cmd := range cmds {
			cerr := cmd.Err()
			if cerr == nil || errors.Is(cerr, redis.Nil) {
				continue
			}
			if attempt == 0 && redis.HasErrorPrefix(cerr, "NOSCRIPT") {
				retry = append(retry, calls[i])
				continue
			}
			return s.mapErr(ctx, op, cerr)
		}
		if len(retry) == 0 {
			return s.mapErr(ctx, op, err)
		}
		if err := sc.Load(ctx, s.c).Err(); err != nil {
			return s.mapErr(ctx, op+": load script", err)
		}
		calls = retry
	}
	return nil
}

// PutLatest implements Store.
func (s *Redis) PutLatest(ctx context.Context, view string, rows []Latest) error {
	if err := checkRows(view, rows); err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	calls := make([]scriptCall, len(rows))
	var (
		buf   []byte
		ends  []int
		names []string
	)
	for i := range rows {
		r := &rows[i]
		// Encode the row's values into one string and slice it, one
		// allocation per row rather than one per value.
		buf, ends, names = buf[:0], ends[:0], names[:0]
		for name, v := range r.Values {
			buf = appendValue(buf, v)
			ends = append(ends, len(buf))
			names = append(names, name)
		}
		enc := string(buf)
		args := make([]any, 0, 2+2*len(names))
		args = append(args, strconv.FormatInt(r.EventTime.UnixNano(), 10), strconv.FormatUint(r.Seq, 10))
		start := 0
		for k, name := range names {
			args = append(args, name, enc[start:ends[k]])
			start = ends[k]
		}
		calls[i] = scriptCall{key: s.latestKey(view, r.Entity), args: args}
	}
	return s.runScripts(ctx, "put latest", putLatestScript, calls)
}

// AddEvents implements Store.
func (s *Redis) AddEvents(ctx context.Context, view string, maxWindow time.Duration, events []AggEvent) error {
	if err := checkEvents(view, events); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	window := "0"
	if us := maxWindow.Microseconds(); us > 0 {
		window = strconv.FormatInt(us, 10)
	}
	// One script call per entity, in order of first appearance.
	idx := make(map[string]int)
	var calls []scriptCall
	for i := range events {
		e := &events[i]
		j, ok := idx[e.Entity]
		if !ok {
			j = len(calls)
			idx[e.Entity] = j
			calls = append(calls, scriptCall{key: s.eventsKey(view, e.Entity), args: []any{window}})
		}
		calls[j].args = append(calls[j].args, strconv.FormatInt(e.EventTime.UnixMicro(), 10), eventMember(e))
	}
	return s.runScripts(ctx, "add events", addEventsScript, calls)
}

// Read implements Store.
func (s *Redis) Read(ctx context.Context, reqs []ReadRequest) ([]ReadResult, error) {
	if err := checkReads(reqs); err != nil {
		return nil, err
	}
	out := make([]ReadResult, len(reqs))
	if len(reqs) == 0 {
		return out, nil
	}
	pipe := s.c.Pipeline()
	latest := make([]*redis.StringSliceCmd, len(reqs))
	events := make([]*redis.StringSliceCmd, len(reqs))
	nvals := 0
	// Requests of one view usually share their Fields slice: build the
	// HMGET arguments (__ts first) once per distinct slice. The reply is
	// read as strings, not boxed one by one: a stored value is never empty
	// (see valueAlloc.decode), so "" is a field the hash does not hold.
	var (
		lastFields []string
		hmArgs     []any // "hmget", the key (per entity), __ts, fields…
	)
	for i := range reqs {
		r := &reqs[i]
		if r.wantsLatest() {
			if len(r.Fields) == 0 || len(lastFields) != len(r.Fields) || &lastFields[0] != &r.Fields[0] {
				hmArgs = make([]any, 0, len(r.Fields)+3)
				hmArgs = append(hmArgs, "hmget", nil, fieldTS)
				for _, f := range r.Fields {
					hmArgs = append(hmArgs, f)
				}
				lastFields = r.Fields
			}
			args := slices.Clone(hmArgs)
			args[1] = s.latestKey(r.View, r.Entity)
			latest[i] = redis.NewStringSliceCmd(ctx, args...)
			_ = pipe.Process(ctx, latest[i]) // queued: errors come from Exec
			nvals += len(r.Fields)
		}
		if r.WithEvents {
			min := "-inf"
			if !r.Since.IsZero() {
				min = strconv.FormatInt(r.Since.UnixMicro(), 10)
			}
			events[i] = pipe.ZRangeByScore(ctx, s.eventsKey(r.View, r.Entity), &redis.ZRangeBy{Min: min, Max: "+inf"})
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, s.mapErr(ctx, "read", err)
	}
	// One backing array for every result's Values, and slabs for the
	// Values themselves.
	all := make([]*featurestorev1.Value, nvals)
	nmembers := 0
	for _, cmd := range events {
		if cmd != nil {
			nmembers += len(cmd.Val())
		}
	}
	alloc := newValueAlloc(nvals + nmembers)
	for i := range reqs {
		r := &reqs[i]
		res := &out[i]
		if cmd := latest[i]; cmd != nil {
			res.Values, all = all[:len(r.Fields):len(r.Fields)], all[len(r.Fields):]
			if err := decodeLatest(r, cmd.Val(), res, alloc); err != nil {
				return nil, err
			}
		}
		if cmd := events[i]; cmd != nil {
			evs, err := decodeEvents(r, cmd.Val(), alloc)
			if err != nil {
				return nil, err
			}
			res.Events = evs
		}
	}
	return out, nil
}

// decodeLatest fills res from an HMGET reply of __ts followed by r.Fields.
func decodeLatest(r *ReadRequest, vals []string, res *ReadResult, alloc *valueAlloc) error {
	if len(vals) != len(r.Fields)+1 {
		return fmt.Errorf("online: read view %q entity %q: HMGET returned %d values for %d fields", r.View, r.Entity, len(vals), len(r.Fields)+1)
	}
	tsv := vals[0]
	if tsv == "" {
		return nil // not found (a hash always has __ts)
	}
	ts, err := strconv.ParseInt(tsv, 10, 64)
	if err != nil {
		return fmt.Errorf("online: read view %q entity %q: bad %s %q: %w", r.View, r.Entity, fieldTS, tsv, errCorrupt)
	}
	res.Found, res.EventTime = true, time.Unix(0, ts).UTC()
	for j, sv := range vals[1:] {
		if sv == "" {
			continue // not in the hash
		}
		v, err := alloc.decode(sv)
		if err != nil {
			return fmt.Errorf("online: read view %q entity %q feature %q: %w", r.View, r.Entity, r.Fields[j], err)
		}
		res.Values[j] = v
	}
	return nil
}

// Ping implements Store.
func (s *Redis) Ping(ctx context.Context) error {
	return s.mapErr(ctx, "ping", s.c.Ping(ctx).Err())
}

// Close implements Store; it closes the client.
func (s *Redis) Close() error {
	if err := s.c.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("online: close redis client: %w", err)
	}
	return nil
}

// mapErr wraps err with the operation and, when Redis is unreachable,
// ErrUnavailable. A cancelled or expired caller context stays a context
// error.
func (s *Redis) mapErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return fmt.Errorf("online: %s: %w", op, err)
	}
	if unavailable(err) {
		return fmt.Errorf("online: %s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("online: %s: %w", op, err)
}

// unavailableReplies are Redis error prefixes meaning "not now": the server
// is loading, failing over, read-only (a demoted master) or busy.
var unavailableReplies = []string{"LOADING ", "MASTERDOWN ", "CLUSTERDOWN ", "TRYAGAIN ", "READONLY ", "BUSY "}

func unavailable(err error) bool {
	var netErr net.Error
	switch {
	case errors.Is(err, redis.ErrClosed), errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, net.ErrClosed), errors.As(err, &netErr),
		// A dial that ran out of DialTimeout surfaces as DeadlineExceeded
		// although the caller's context is still live.
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	for _, p := range unavailableReplies {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}
