"""Splits, severity, contested land, slivers and size bands: hand-computed and on Trafford."""

import numpy as np
import pandas as pd
import pytest

from conftest import trafford_layer, trafford_lsoa
from nbhood_cli.reconcile import best_fit
from nbhood_cli.tensions import Thresholds, contested, is_sliver, severity, size_band, splits
from test_reconcile import COMMUNITY, IDS, PEOPLE, _walk, overlaps_of


def test_splits_fit_tension_severity():
    walk = _walk()
    table = splits(walk, best_fit(walk, IDS, "ward"), Thresholds())
    assert table["split_count"].tolist() == [2, 1, 1]
    assert table["units"].tolist() == ["W1;W2", "W2", "W2"]
    assert table["tension"].tolist() == pytest.approx([0.375, 0.0, 0.0])
    assert table["severity"].tolist() == ["medium", "none", "none"]


def test_min_share_and_slivers_change_split_counts():
    walk = _walk()
    fits = best_fit(walk, IDS, "ward")
    # A's 37.5 % in W2 no longer counts when a unit must hold 40 %.
    assert splits(walk, fits, Thresholds(min_share=0.4))["split_count"].tolist() == [1, 1, 1]
    # With a 6,000 m² / 200-person sliver rule, A's 5,000 m² piece in W2 (150 people) is a
    # digitising difference: excluded from the count, though fit stays 0.625.
    th = Thresholds(sliver_area=6_000, sliver_pop=200)
    assert is_sliver(walk, th).tolist() == [False, True, False, False]
    table = splits(walk, fits, th)
    assert table["split_count"].tolist() == [1, 1, 1]
    assert table["fit"].tolist() == pytest.approx([0.625, 1, 1])


@pytest.mark.parametrize("tension, label", [(0.0, "none"), (0.0499, "none"), (0.05, "low"),
                                            (0.2, "medium"), (0.39, "medium"), (0.4, "high"),
                                            (1.0, "high")])
def test_severity_edges(tension, label):
    assert severity(np.array([tension]), Thresholds()).tolist() == [label]


@pytest.mark.parametrize("people, band", [(0, "hyperlocal"), (10_000, "hyperlocal"),
                                          (10_001, "below-pcn"), (30_000, "below-pcn"),
                                          (40_000, "pcn-snp"), (50_001, "above-snp"),
                                          (250_000, "above-snp"), (300_000, "mnp-place")])
def test_size_bands(people, band):
    assert size_band(np.array([people]), Thresholds()).tolist() == [band]


def test_contested_land_with_claimants():
    found = contested(COMMUNITY, IDS, PEOPLE, overlaps_of(COMMUNITY))
    assert found["claimants"].tolist() == ["A;C", "B;C"]
    assert found["n_claimants"].tolist() == [2, 2]
    assert found["area_m2"].tolist() == pytest.approx([1_000, 2_000])
    assert found["population"].tolist() == pytest.approx([30, 80])  # 10 % of 300, 20 % of 400
    assert is_sliver(found, Thresholds()).tolist() == [True, False]


def test_trafford_contested_pairs_match_the_designed_overlaps():
    """SOURCES.md designs five contested pairs and one sliver overlap (Sale × Brooklands,
    ~6,600 m²); every other pair is at least 20 m apart."""
    from nbhood_cli.reconcile import People

    lsoa, counts = trafford_lsoa()
    community = trafford_layer("community_areas.geojson")
    names = dict(zip(community["id"], community["name"], strict=True))
    found = contested(community, community["id"], People(lsoa, counts),
                      overlaps_of(community))
    pairs = {" × ".join(sorted(names[i] for i in c.split(";"))): row
             for c, row in zip(found["claimants"], found.itertuples(), strict=True)}
    assert set(pairs) == {"Gorse Hill × Stretford", "Davyhulme × Urmston",
                          "Ashton upon Mersey × Sale", "Altrincham × Broadheath",
                          "Bowdon × Hale", "Brooklands × Sale"}
    sliver = pairs["Brooklands × Sale"]
    assert 6_000 < sliver.area_m2 < 7_200
    slivers = pd.Series(is_sliver(found, Thresholds()), index=list(pairs))
    assert slivers[slivers].index.tolist() == ["Brooklands × Sale"]


def test_analysis_without_statutory_layers_has_empty_tables_with_their_columns():
    """Community areas alone: population, contested land and size bands, and crosswalk,
    tensions and gaps with their usual columns and no rows (not a crash)."""
    from nbhood_cli.analysis import Areas, analyse

    alone = analyse(Areas(COMMUNITY, IDS), [], PEOPLE, Thresholds()).products
    ward = Areas(COMMUNITY.iloc[:2], ["W1", "W2"], "ward")
    full = analyse(Areas(COMMUNITY, IDS), [ward], PEOPLE, Thresholds()).products
    for name in ("crosswalk", "tensions", "gaps"):
        assert len(alone[name]) == 0 and len(full[name]) > 0, name
        assert list(alone[name].columns) == list(full[name].columns), name
    # A: half of 100, 200, half of 300; B: 400; C: 60 % of 300 and 20 % of 400
    assert alone["population"]["population"].tolist() == pytest.approx([400, 400, 260])
    assert alone["contested"]["claimants"].tolist() == ["B;C"]  # A;C is a sliver
