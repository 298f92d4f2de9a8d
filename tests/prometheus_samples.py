"""Reading Prometheus' text format in the metrics tests (tests/image, tests/infra)."""

from prometheus_client.parser import text_string_to_metric_families


def value(text, name, **labels):
    """The sum of the samples called `name` whose labels include `labels` (0 when none)."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )
