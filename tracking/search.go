package tracking

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Search limits, as MLflow's.
const (
	DefaultMaxResults = 1000
	MaxResultsLimit   = 50000
)

// RunQuery is a search for runs.
type RunQuery struct {
	// ExperimentIDs are the experiments searched. Required.
	ExperimentIDs []string
	// Filter is MLflow's filter syntax; empty matches every run.
	Filter string
	// ViewType is ActiveOnly (the default when empty), DeletedOnly or All.
	ViewType string
	// MaxResults bounds the page; 0 means DefaultMaxResults.
	MaxResults int
	// OrderBy holds clauses such as "metrics.auc DESC" or
	// "attributes.start_time"; runs are then ordered by start time, newest
	// first, and id.
	OrderBy []string
	// PageToken continues a search where the page before ended.
	PageToken string
}

// SearchRuns returns a page of runs matching q and the token of the next
// page, empty on the last one. It fails with ErrInvalid for a malformed
// filter (or one past MaxFilterClauses or MaxFilterValues), order or page
// token.
func (s *Store) SearchRuns(ctx context.Context, q RunQuery) ([]*Run, string, error) {
	limit, offset, err := pageOf(q.MaxResults, q.PageToken)
	if err != nil {
		return nil, "", err
	}
	if len(q.ExperimentIDs) == 0 {
		return nil, "", fmt.Errorf("%w: experiment_ids must name at least one experiment", ErrInvalid)
	}
	var cond []string
	var args []any
	ids := make([]any, 0, len(q.ExperimentIDs))
	for _, id := range q.ExperimentIDs {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("%w: invalid experiment id '%s'", ErrInvalid, id)
		}
		ids = append(ids, n)
	}
	cond = append(cond, "r.experiment_id IN ("+placeholders(len(ids))+")")
	args = append(args, ids...)
	stage, err := viewCondition("r", q.ViewType)
	if err != nil {
		return nil, "", err
	}
	if stage != "" {
		cond = append(cond, stage)
	}
	filter, err := parseFilter(q.Filter)
	if err != nil {
		return nil, "", err
	}
	for _, c := range filter {
		sqlc, a, err := s.runCondition(c)
		if err != nil {
			return nil, "", fmt.Errorf("%w: invalid filter '%s': %v", ErrInvalid, q.Filter, err)
		}
		cond = append(cond, sqlc)
		args = append(args, a...)
	}
	order, oargs, err := runOrder(q.OrderBy)
	if err != nil {
		return nil, "", err
	}
	runs, err := s.runsWhere(ctx, strings.Join(cond, " AND "), append(args, oargs...), order, offset, limit+1)
	if err != nil {
		return nil, "", err
	}
	return page(runs, offset, limit)
}

// page cuts one extra result off a query that asked for limit+1 and makes
// the next page's token.
func page[T any](items []T, offset, limit int) ([]T, string, error) {
	if len(items) <= limit {
		return items, "", nil
	}
	b, _ := json.Marshal(map[string]int{"offset": offset + limit})
	return items[:limit], base64.StdEncoding.EncodeToString(b), nil
}

// pageOf checks a page size and decodes a page token.
func pageOf(maxResults int, token string) (limit, offset int, err error) {
	switch {
	case maxResults < 0 || maxResults > MaxResultsLimit:
		return 0, 0, fmt.Errorf("%w: invalid value %d for parameter 'max_results' supplied; it must be at most %d", ErrInvalid, maxResults, MaxResultsLimit)
	case maxResults == 0:
		maxResults = DefaultMaxResults
	}
	if token == "" {
		return maxResults, 0, nil
	}
	raw, err := base64.StdEncoding.DecodeString(token)
	var t struct {
		Offset *int `json:"offset"`
	}
	if err == nil {
		err = json.Unmarshal(raw, &t)
	}
	if err != nil || t.Offset == nil || *t.Offset < 0 {
		return 0, 0, fmt.Errorf("%w: invalid page token", ErrInvalid)
	}
	return maxResults, *t.Offset, nil
}

// viewCondition returns the condition on alias's lifecycle stage for a
// view type.
func viewCondition(alias, view string) (string, error) {
	switch view {
	case "", ActiveOnly:
		return alias + ".lifecycle_stage = 'active'", nil
	case DeletedOnly:
		return alias + ".lifecycle_stage = 'deleted'", nil
	case All:
		return "", nil
	}
	return "", fmt.Errorf("%w: invalid view type '%s'", ErrInvalid, view)
}

// runAttributes maps the attributes a filter or order may name to columns.
var runAttributes = map[string]string{
	"status": "r.status", "run_name": "r.run_name", "run_id": "r.run_id", "user_id": "r.user_id",
	"start_time": "r.start_time", "end_time": "r.end_time", "artifact_uri": "r.artifact_uri",
}

// runCondition turns one comparison into SQL over runs aliased r.
func (s *Store) runCondition(c comparison) (string, []any, error) {
	switch c.kind {
	case "attribute":
		col, ok := runAttributes[c.key]
		if !ok {
			return "", nil, fmt.Errorf("invalid attribute key '%s'", c.key)
		}
		return s.compare(col, c)
	case "metric":
		expr, args, err := s.compare("m.value", c)
		return exists("latest_metrics m WHERE m.run_id = r.run_id AND m.key = ? AND NOT m.is_nan AND " + expr),
			append([]any{c.key}, args...), err
	case "param":
		expr, args, err := s.compare("p.value", c)
		return exists("params p WHERE p.run_id = r.run_id AND p.key = ? AND " + expr),
			append([]any{c.key}, args...), err
	case "tag":
		expr, args, err := s.compare("t.value", c)
		return exists("run_tags t WHERE t.run_id = r.run_id AND t.key = ? AND " + expr),
			append([]any{c.key}, args...), err
	}
	return "", nil, fmt.Errorf("BUG: comparison of kind %q", c.kind)
}

// exists returns an EXISTS test of a row in fromWhere ("table alias
// WHERE ..."). Its OFFSET 0 keeps PostgreSQL from turning each test into
// a semi-join: planning a filter's hundred joins took it a minute, where
// a hundred index probes per run take milliseconds. SQLite reads it as
// the plain EXISTS it is.
func exists(fromWhere string) string {
	return "EXISTS (SELECT 1 FROM " + fromWhere + " LIMIT 1 OFFSET 0)"
}

// compare returns col compared with c's value. LIKE is case-sensitive,
// as MLflow's is: PostgreSQL's LIKE is; SQLite's is not, so there it
// becomes a GLOB.
func (s *Store) compare(col string, c comparison) (string, []any, error) {
	switch c.op {
	case "LIKE":
		if s.pg {
			return col + " LIKE ? ESCAPE '\\'", []any{c.value}, nil
		}
		return col + " GLOB ?", []any{likeToGlob(c.value.(string))}, nil
	case "ILIKE":
		return "lower(" + col + ") LIKE lower(?) ESCAPE '\\'", []any{c.value}, nil
	case "IN", "NOT IN":
		list := c.value.([]string)
		args := make([]any, len(list))
		for i, v := range list {
			args[i] = v
		}
		return col + " " + c.op + " (" + placeholders(len(list)) + ")", args, nil
	}
	return col + " " + c.op + " ?", []any{c.value}, nil
}

// likeToGlob turns an SQL LIKE pattern into a GLOB, which SQLite matches
// case-sensitively as MLflow's LIKE does.
func likeToGlob(p string) string {
	var b strings.Builder
	for _, r := range p {
		switch r {
		case '%':
			b.WriteByte('*')
		case '_':
			b.WriteByte('?')
		case '*', '?', '[':
			b.WriteString("[" + string(r) + "]")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// runOrder turns order_by clauses into an ORDER BY over runs aliased r.
// Runs without the metric, param or tag ordered by come last.
func runOrder(clauses []string) (string, []any, error) {
	var parts []string
	var args []any
	for _, cl := range clauses {
		fields := strings.Fields(cl)
		if len(fields) == 0 || len(fields) > 2 {
			return "", nil, fmt.Errorf("%w: invalid order_by clause '%s'", ErrInvalid, cl)
		}
		dir := "ASC"
		if len(fields) == 2 {
			dir = strings.ToUpper(fields[1])
			if dir != "ASC" && dir != "DESC" {
				return "", nil, fmt.Errorf("%w: invalid order_by clause '%s': the direction must be ASC or DESC", ErrInvalid, cl)
			}
		}
		toks, err := lex(fields[0])
		if err != nil || len(toks) != 1 {
			return "", nil, fmt.Errorf("%w: invalid order_by clause '%s'", ErrInvalid, cl)
		}
		prefix, key, found := strings.Cut(toks[0].text, ".")
		if !found {
			prefix, key = "attributes", toks[0].text
		}
		var expr string
		switch strings.ToLower(prefix) {
		case "metrics", "metric":
			expr = "(SELECT m.value FROM latest_metrics m WHERE m.run_id = r.run_id AND m.key = ?)"
			args = append(args, key)
		case "params", "param":
			expr = "(SELECT p.value FROM params p WHERE p.run_id = r.run_id AND p.key = ?)"
			args = append(args, key)
		case "tags", "tag":
			expr = "(SELECT t.value FROM run_tags t WHERE t.run_id = r.run_id AND t.key = ?)"
			args = append(args, key)
		case "attributes", "attribute", "attr", "run":
			col, ok := runAttributes[key]
			if !ok {
				return "", nil, fmt.Errorf("%w: invalid order_by clause '%s': unknown attribute '%s'", ErrInvalid, cl, key)
			}
			expr = col
		default:
			return "", nil, fmt.Errorf("%w: invalid order_by clause '%s'", ErrInvalid, cl)
		}
		parts = append(parts, expr+" IS NULL", expr+" "+dir)
		if expr[0] == '(' {
			args = append(args, args[len(args)-1]) // the key, for the second use
		}
	}
	parts = append(parts, "r.start_time DESC", "r.run_id ASC")
	return strings.Join(parts, ", "), args, nil
}

// runsWhere reads the runs matching cond, in order, with everything
// they logged.
func (s *Store) runsWhere(ctx context.Context, cond string, args []any, order string, offset, limit int) ([]*Run, error) {
	if order == "" {
		order = "r.start_time DESC, r.run_id ASC"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r.run_id, r.run_name, r.experiment_id, r.user_id, r.status, r.start_time,
		r.end_time, r.artifact_uri, r.lifecycle_stage FROM runs r WHERE `+cond+` ORDER BY `+order+` LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, fmt.Errorf("tracking: search runs: %w", err)
	}
	defer rows.Close()
	var runs []*Run
	byID := map[string]*Run{}
	for rows.Next() {
		r := &Run{}
		var exp int64
		var end sql.NullInt64
		i := &r.Info
		if err := rows.Scan(&i.RunID, &i.RunName, &exp, &i.UserID, &i.Status, &i.StartTime, &end, &i.ArtifactURI, &i.LifecycleStage); err != nil {
			return nil, fmt.Errorf("tracking: search runs: %w", err)
		}
		i.ExperimentID, i.EndTime = strconv.FormatInt(exp, 10), end.Int64
		runs = append(runs, r)
		byID[i.RunID] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tracking: search runs: %w", err)
	}
	if len(runs) == 0 {
		return runs, nil
	}
	if err := s.fillRuns(ctx, byID); err != nil {
		return nil, err
	}
	return runs, nil
}

// fillRuns reads the metrics, params, tags and datasets of the runs.
func (s *Store) fillRuns(ctx context.Context, byID map[string]*Run) error {
	ids := make([]any, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	in := "(" + placeholders(len(ids)) + ")"
	each := func(query string, scan func(rows *sql.Rows) error) error {
		rows, err := s.db.QueryContext(ctx, query, ids...)
		if err != nil {
			return fmt.Errorf("tracking: read runs: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return fmt.Errorf("tracking: read runs: %w", err)
			}
		}
		return rows.Err()
	}
	err := each(`SELECT run_id, key, value, is_nan, timestamp, step FROM latest_metrics WHERE run_id IN `+in+` ORDER BY key`, func(rows *sql.Rows) error {
		var id string
		var m Metric
		var v sql.NullFloat64
		var isNaN bool
		if err := rows.Scan(&id, &m.Key, &v, &isNaN, &m.Timestamp, &m.Step); err != nil {
			return err
		}
		m.Value = loadedValue(v, isNaN)
		byID[id].Metrics = append(byID[id].Metrics, m)
		return nil
	})
	if err != nil {
		return err
	}
	err = each(`SELECT run_id, key, value FROM params WHERE run_id IN `+in+` ORDER BY key`, func(rows *sql.Rows) error {
		var id string
		var p Param
		if err := rows.Scan(&id, &p.Key, &p.Value); err != nil {
			return err
		}
		byID[id].Params = append(byID[id].Params, p)
		return nil
	})
	if err != nil {
		return err
	}
	err = each(`SELECT run_id, key, value FROM run_tags WHERE run_id IN `+in+` ORDER BY key`, func(rows *sql.Rows) error {
		var id string
		var t Tag
		if err := rows.Scan(&id, &t.Key, &t.Value); err != nil {
			return err
		}
		byID[id].Tags = append(byID[id].Tags, t)
		return nil
	})
	if err != nil {
		return err
	}
	if err := runInputs(ctx, s.db, in, ids, byID); err != nil {
		return err
	}
	return each(`SELECT u.run_id, u.role, d.sha256, d.path, d.rows, d.columns FROM run_datasets u
		JOIN datasets d ON d.dataset_id = u.dataset_id WHERE u.run_id IN `+in+` ORDER BY u.role, d.path`, func(rows *sql.Rows) error {
		var id, cols string
		var u DatasetUse
		if err := rows.Scan(&id, &u.Role, &u.SHA256, &u.Path, &u.Rows, &cols); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(cols), &u.Columns); err != nil {
			return err
		}
		byID[id].Datasets = append(byID[id].Datasets, u)
		return nil
	})
}

// ExperimentQuery is a search for experiments.
type ExperimentQuery struct {
	// Filter compares attributes.name (or name) and tags.KEY; empty
	// matches every experiment.
	Filter string
	// ViewType is ActiveOnly (the default when empty), DeletedOnly or All.
	ViewType string
	// MaxResults bounds the page; 0 means DefaultMaxResults.
	MaxResults int
	// OrderBy holds clauses such as "name" or "creation_time DESC"; then
	// by id.
	OrderBy []string
	// PageToken continues a search where the page before ended.
	PageToken string
}

// SearchExperiments returns a page of experiments matching q and the
// token of the next page, empty on the last one.
func (s *Store) SearchExperiments(ctx context.Context, q ExperimentQuery) ([]*Experiment, string, error) {
	limit, offset, err := pageOf(q.MaxResults, q.PageToken)
	if err != nil {
		return nil, "", err
	}
	cond := []string{"TRUE"}
	var args []any
	if stage, err := viewCondition("e", q.ViewType); err != nil {
		return nil, "", err
	} else if stage != "" {
		cond = append(cond, stage)
	}
	filter, err := parseFilter(q.Filter)
	if err != nil {
		return nil, "", err
	}
	for _, c := range filter {
		switch {
		case c.kind == "attribute" && c.key == "name":
			expr, a, err := s.compare("e.name", c)
			if err != nil {
				return nil, "", err
			}
			cond, args = append(cond, expr), append(args, a...)
		case c.kind == "tag":
			expr, a, _ := s.compare("t.value", c)
			cond = append(cond, exists("experiment_tags t WHERE t.experiment_id = e.experiment_id AND t.key = ? AND "+expr))
			args = append(append(args, c.key), a...)
		default:
			return nil, "", fmt.Errorf("%w: invalid filter '%s': experiments can be filtered by name and tags", ErrInvalid, q.Filter)
		}
	}
	var order []string
	for _, cl := range q.OrderBy {
		fields := strings.Fields(cl)
		if len(fields) == 0 || len(fields) > 2 {
			return nil, "", fmt.Errorf("%w: invalid order_by clause '%s'", ErrInvalid, cl)
		}
		col, ok := map[string]string{"name": "e.name", "experiment_id": "e.experiment_id", "creation_time": "e.creation_time",
			"last_update_time": "e.last_update_time"}[strings.TrimPrefix(fields[0], "attributes.")]
		dir := "ASC"
		if len(fields) == 2 {
			dir = strings.ToUpper(fields[1])
		}
		if !ok || dir != "ASC" && dir != "DESC" {
			return nil, "", fmt.Errorf("%w: invalid order_by clause '%s'", ErrInvalid, cl)
		}
		order = append(order, col+" "+dir)
	}
	order = append(order, "e.experiment_id ASC")
	rows, err := s.db.QueryContext(ctx, `SELECT e.experiment_id FROM experiments e WHERE `+strings.Join(cond, " AND ")+
		` ORDER BY `+strings.Join(order, ", ")+` LIMIT ? OFFSET ?`, append(args, limit+1, offset)...)
	if err != nil {
		return nil, "", fmt.Errorf("tracking: search experiments: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, "", fmt.Errorf("tracking: search experiments: %w", err)
		}
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("tracking: search experiments: %w", err)
	}
	out := make([]*Experiment, 0, len(ids))
	for _, id := range ids {
		e, err := s.Experiment(ctx, id)
		if err != nil {
			return nil, "", err
		}
		out = append(out, e)
	}
	return page(out, offset, limit)
}
