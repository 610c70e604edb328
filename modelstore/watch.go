package modelstore

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watcher is the goroutine that turns filesystem events under the
// registry into the names of the models they touch. It only signals: the
// reconciler decides what changed. Started by Open, it ends with the
// reconciler's context.
type watcher struct {
	done chan struct{} // closed when the goroutine has ended; nil if none runs
}

// wait returns once the watcher's goroutine has ended.
func (w *watcher) wait() {
	if w.done != nil {
		<-w.done
	}
}

// startWatcher watches the registry, its model directories and their
// version directories (inotify is not recursive). If the platform refuses,
// it logs why and the periodic rescan is all there is.
func (s *Store) startWatcher(ctx context.Context) *watcher {
	fw, err := fsnotify.NewWatcher()
	if err == nil {
		err = fw.Add(s.cfg.Dir)
		if err != nil {
			fw.Close()
		}
	}
	if err != nil {
		s.log.Warn("cannot watch the registry; changes are seen at the periodic rescan only",
			"error", err, "rescan_interval", s.cfg.RescanInterval)
		return &watcher{}
	}
	entries, _ := os.ReadDir(s.cfg.Dir)
	for _, e := range entries {
		if e.IsDir() && ValidName(e.Name()) {
			addTree(fw, filepath.Join(s.cfg.Dir, e.Name()))
		}
	}
	w := &watcher{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer fw.Close()
		s.watch(ctx, fw)
	}()
	return w
}

// addTree watches a model directory and the version directories in it.
// Errors are ignored: a directory that vanished needs no watch, and the
// rescan covers one that could not be watched.
func addTree(fw *fsnotify.Watcher, modelDir string) {
	fw.Add(modelDir)
	entries, _ := os.ReadDir(modelDir)
	for _, e := range entries {
		if _, ok := parseVersion(e.Name()); ok && e.IsDir() {
			fw.Add(filepath.Join(modelDir, e.Name()))
		}
	}
}

// watch gathers events for Debounce after the first one, then hands the
// models they touch to the reconciler (nil for all of them, after an
// event on the registry itself or a lost event).
func (s *Store) watch(ctx context.Context, fw *fsnotify.Watcher) {
	pending := map[string]bool{}
	all := false
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	arm := func() {
		if !armed {
			timer.Reset(s.cfg.Debounce)
			armed = true
		}
	}
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case ev, ok := <-fw.Events:
			if !ok {
				return
			}
			model, depth := s.modelOf(ev.Name)
			switch {
			case depth == 0:
				all = true
			case model == "":
				continue
			default:
				pending[model] = true
				if ev.Has(fsnotify.Create) && depth <= 2 {
					if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
						if depth == 1 {
							addTree(fw, ev.Name)
						} else if _, ok := parseVersion(filepath.Base(ev.Name)); ok {
							fw.Add(ev.Name)
						}
					}
				}
			}
			arm()
		case err, ok := <-fw.Errors:
			if !ok {
				return
			}
			s.log.Warn("registry watch lost events; rescanning everything", "error", err)
			all = true
			arm()
		case <-timer.C:
			armed = false
			var names []string
			if !all {
				names = slices.Sorted(maps.Keys(pending))
			}
			select {
			case s.changed <- names:
				clear(pending)
				all = false
			default: // the reconciler has not taken the last batch yet
				arm()
			}
		}
	}
}

// modelOf returns the model a path under the registry belongs to and its
// depth: 0 for the registry itself, 1 for a model directory, 2 for what
// is in one, 3 or more below. The model is "" for paths no model owns
// (hidden directories such as the data directory).
func (s *Store) modelOf(path string) (string, int) {
	rel, err := filepath.Rel(s.cfg.Dir, path)
	if err != nil || rel == "." {
		return "", 0
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if !ValidName(parts[0]) {
		return "", len(parts)
	}
	return parts[0], len(parts)
}
