// The frame sources.
