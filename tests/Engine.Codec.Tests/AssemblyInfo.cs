// NativeObjects.Live is process-wide: tests that count it must not overlap others creating codecs.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
