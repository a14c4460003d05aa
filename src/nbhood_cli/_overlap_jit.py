"""The compiled part of ``overlap`` (numba, cached on disk); see overlap.py for the method."""

from __future__ import annotations

import numba
import numpy as np

from nbhood_cli.overlap import BOUND, CHUNK, SCRATCH

jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@jit
def _side(ax, ay, bx, by, cx, cy, moved):
    """The sign (+1, -1; 0: cannot be decided) and value of orient(a, b, c), twice the signed
    area of the triangle, with the second polygon moved by the infinitesimal δ = (ε, ε²):
    ``moved`` when c is its point, else a and b are its edge. A sign the float value cannot
    certify is decided only where the determinant is exactly 0 — c is a or b, or the three
    lie on one axis-parallel line: a factor of each product is exactly 0 — and is then that
    of the δ term, ±det(b − a, δ) = ±((bx − ax)ε² − (by − ay)ε); otherwise 0."""
    left = (ax - cx) * (by - cy)
    right = (ay - cy) * (bx - cx)
    det = left - right
    if abs(det) > BOUND * (abs(left) + abs(right)):
        return (1 if det > 0.0 else -1), det
    if (ax == cx or by == cy) and (ay == cy or bx == cx):  # a factor of each product is 0
        ux, uy = bx - ax, by - ay  # exact signs: differences of two doubles
        s = -uy if uy != 0.0 else ux
        if not moved:
            s = -s
        return (1 if s > 0.0 else (-1 if s < 0.0 else 0)), 0.0
    return 0, 0.0


@jit
def _inside(px, py, xy, rings, r0, r1, rx1, ry0, ry1, cx1, cy0, cy1, moved):
    """Whether the point lies inside the rings r0..r1 (crossing rule; the rings are the
    moved polygon's unless ``moved``, the point's): 1, 0 or -1 (cannot be decided). Rings
    and chunks of edges wholly above, below or left of the point cross no ray from it."""
    odd = 0
    for r in range(r0, r1):
        if ry1[r] < py or ry0[r] > py or rx1[r] < px:
            continue
        lo, hi = rings[r], rings[r + 1] - 1  # edges lo..hi-1
        for c in range(lo // CHUNK, (hi - 1) // CHUNK + 1):
            if cy1[c] < py or cy0[c] > py or cx1[c] < px:
                continue
            for k in range(max(lo, c * CHUNK), min(hi, c * CHUNK + CHUNK)):
                y0, y1 = xy[k, 1], xy[k + 1, 1]
                # y + ε² > py for the moved rings; y > py + ε² for the moved point
                if moved:
                    if (y0 > py) == (y1 > py):
                        continue
                elif (y0 >= py) == (y1 >= py):
                    continue
                s, _ = _side(xy[k, 0], y0, xy[k + 1, 0], y1, px, py, moved)
                if s == 0:
                    return -1
                if (s > 0) == (y1 > y0):  # the edge passes to the right of the point
                    odd ^= 1
    return odd


@jit
def _walk(first, pxy, prings, psign, p0, p1, pbx0, pbx1, pby0, pby1,
          qxy, qrings, qsign, q0, q1, qbx0, qbx1, qby0, qby1, qcx0, qcx1, qcy0, qcy1,
          pbox, box, ox, oy, key, cx, cy):
    """Twice the integral of (x dy − y dx) / 2 along P's rings p0..p1 where they lie inside
    Q's rings q0..q1; NaN when declined. ``first``: P is the pair's first polygon (the
    second is the moved one). Crossing points are always placed on the first polygon's
    edge, so both walks share them. ``pbox``, ``box``: P's and Q's boxes."""
    bx0, bx1, by0, by1 = box
    # the chunks of Q's edges that meet P's box: the only ones P's edges can cross
    near_ring = np.empty((qrings[q1] - qrings[q0]) // CHUNK + 2 * (q1 - q0), np.int64)
    near_chunk = np.empty_like(near_ring)
    near = 0
    for s in range(q0, q1):
        if qbx1[s] < pbox[0] or qbx0[s] > pbox[1] or qby1[s] < pbox[2] or qby0[s] > pbox[3]:
            continue
        lo, hi = qrings[s], qrings[s + 1] - 1
        for c in range(lo // CHUNK, (hi - 1) // CHUNK + 1):
            if (qcx1[c] < pbox[0] or qcx0[c] > pbox[1] or qcy1[c] < pbox[2]
                    or qcy0[c] > pbox[3]):
                continue
            near_ring[near], near_chunk[near] = s, c
            near += 1
    total = 0.0
    for r in range(p0, p1):
        if pbx1[r] < bx0 or pbx0[r] > bx1 or pby1[r] < by0 or pby0[r] > by1:
            continue  # the ring is outside Q's box
        sign = psign[r]
        a, b = prings[r], prings[r + 1] - 1
        state = 0
        if bx0 <= pxy[a, 0] <= bx1 and by0 <= pxy[a, 1] <= by1:
            state = _inside(pxy[a, 0], pxy[a, 1], qxy, qrings, q0, q1, qbx1, qby0, qby1,
                            qcx1, qcy0, qcy1, not first)
            if state < 0:
                return np.nan
        start = state
        ring = 0.0
        for k in range(a, b):
            x0, y0, x1, y1 = pxy[k, 0], pxy[k, 1], pxy[k + 1, 0], pxy[k + 1, 1]
            if x0 == x1 and y0 == y1:
                continue  # a repeated vertex: no edge
            ex0, ex1, ey0, ey1 = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
            n = 0
            twin = False
            if not (ex1 < bx0 or ex0 > bx1 or ey1 < by0 or ey0 > by1):
                for h in range(near):
                    c = near_chunk[h]
                    if qcx1[c] < ex0 or qcx0[c] > ex1 or qcy1[c] < ey0 or qcy0[c] > ey1:
                        continue
                    lo, hi = qrings[near_ring[h]], qrings[near_ring[h] + 1] - 1
                    for m in range(max(lo, c * CHUNK), min(hi, c * CHUNK + CHUNK)):
                        fx0, fy0 = qxy[m, 0], qxy[m, 1]
                        fx1, fy1 = qxy[m + 1, 0], qxy[m + 1, 1]
                        if (max(fx0, fx1) < ex0 or min(fx0, fx1) > ex1
                                or max(fy0, fy1) < ey0 or min(fy0, fy1) > ey1):
                            continue
                        if fx0 == fx1 and fy0 == fy1:
                            continue
                        back = fx0 == x1 and fy0 == y1 and fx1 == x0 and fy1 == y0
                        same = fx0 == x0 and fy0 == y0 and fx1 == x1 and fy1 == y1
                        if (back and sign == qsign[near_ring[h]]) or (
                                same and sign != qsign[near_ring[h]]):
                            # the same edge, run the other way once rings are oriented:
                            # both are inside or both outside, and their parts cancel;
                            # counting neither leaves no rounding
                            twin = True
                            continue
                        s1, d1 = _side(fx0, fy0, fx1, fy1, x0, y0, not first)
                        s2, d2 = _side(fx0, fy0, fx1, fy1, x1, y1, not first)
                        if s1 == 0 or s2 == 0:
                            return np.nan
                        if s1 == s2:
                            continue
                        s3, d3 = _side(x0, y0, x1, y1, fx0, fy0, first)
                        s4, d4 = _side(x0, y0, x1, y1, fx1, fy1, first)
                        if s3 == 0 or s4 == 0:
                            return np.nan
                        if s3 == s4:
                            continue
                        if n == SCRATCH:
                            return np.nan
                        t = d1 / (d1 - d2)  # along P's edge (0 or 1 at a shared vertex)
                        key[n] = t
                        if first:
                            cx[n], cy[n] = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                        else:
                            u = d3 / (d3 - d4)  # along Q's (the first polygon's) edge
                            cx[n], cy[n] = fx0 + u * (fx1 - fx0), fy0 + u * (fy1 - fy0)
                        n += 1
            if twin:  # crossings of a shared edge are at its ends: the same state along it
                state ^= n & 1
                continue
            for e in range(1, n):  # insertion sort along the edge (n is small)
                kt, kx, ky = key[e], cx[e], cy[e]
                d = e - 1
                while d >= 0 and key[d] > kt:
                    key[d + 1], cx[d + 1], cy[d + 1] = key[d], cx[d], cy[d]
                    d -= 1
                key[d + 1], cx[d + 1], cy[d + 1] = kt, kx, ky
            ux, uy = x0 - ox, y0 - oy
            for e in range(n):
                vx, vy = cx[e] - ox, cy[e] - oy
                if state:
                    ring += ux * vy - vx * uy
                ux, uy = vx, vy
                state ^= 1
            if state:
                ring += ux * (y1 - oy) - (x1 - ox) * uy
        if state != start:  # an odd number of crossings: cannot happen when all is certain
            return np.nan
        total += sign * ring
    return total


@jit
def pair_areas(i, j, axy, arings, ageom, asign, ax0, ax1, ay0, ay1, acx0, acx1, acy0, acy1,
               bxy, brings, bgeom, bsign, bx0, bx1, by0, by1, bcx0, bcx1, bcy0, bcy1):
    """area(A[i[k]] ∩ B[j[k]]) for each k, NaN where the kernel declines the pair."""
    out = np.empty(len(i))
    key = np.empty(SCRATCH)
    cx = np.empty(SCRATCH)
    cy = np.empty(SCRATCH)
    for k in range(len(i)):
        g, h = i[k], j[k]
        a0, a1, b0, b1 = ageom[g], ageom[g + 1], bgeom[h], bgeom[h + 1]
        if a0 == a1 or b0 == b1:
            out[k] = 0.0
            continue
        abox = (ax0[a0:a1].min(), ax1[a0:a1].max(), ay0[a0:a1].min(), ay1[a0:a1].max())
        bbox = (bx0[b0:b1].min(), bx1[b0:b1].max(), by0[b0:b1].min(), by1[b0:b1].max())
        if (abox[1] < bbox[0] or abox[0] > bbox[1] or abox[3] < bbox[2]
                or abox[2] > bbox[3]):
            out[k] = 0.0
            continue
        ox, oy = abox[0], abox[2]
        s = _walk(True, axy, arings, asign, a0, a1, ax0, ax1, ay0, ay1,
                  bxy, brings, bsign, b0, b1, bx0, bx1, by0, by1, bcx0, bcx1, bcy0, bcy1,
                  abox, bbox, ox, oy, key, cx, cy)
        if s != s:
            out[k] = np.nan
            continue
        t = _walk(False, bxy, brings, bsign, b0, b1, bx0, bx1, by0, by1,
                  axy, arings, asign, a0, a1, ax0, ax1, ay0, ay1, acx0, acx1, acy0, acy1,
                  bbox, abox, ox, oy, key, cx, cy)
        out[k] = (s + t) / 2.0
    return out


@jit
def ring_stats(xy, rings):
    """Per ring: twice its signed area (positive: counter-clockwise) and its box."""
    n = len(rings) - 1
    twice, x0, x1 = np.empty(n), np.empty(n), np.empty(n)
    y0, y1 = np.empty(n), np.empty(n)
    for r in range(n):
        a, b = rings[r], rings[r + 1]
        fx, fy = xy[a, 0], xy[a, 1]
        s = 0.0
        lox, hix, loy, hiy = fx, fx, fy, fy
        for k in range(a, b - 1):
            u, v = xy[k, 0] - fx, xy[k, 1] - fy
            p, q = xy[k + 1, 0] - fx, xy[k + 1, 1] - fy
            s += u * q - p * v
            lox, hix = min(lox, xy[k + 1, 0]), max(hix, xy[k + 1, 0])
            loy, hiy = min(loy, xy[k + 1, 1]), max(hiy, xy[k + 1, 1])
        twice[r], x0[r], x1[r], y0[r], y1[r] = s, lox, hix, loy, hiy
    return twice, x0, x1, y0, y1


@jit
def chunk_boxes(xy):
    """The box of vertices c·CHUNK … c·CHUNK + CHUNK (the edges starting in chunk c)."""
    n = (len(xy) + CHUNK - 1) // CHUNK
    x0, x1, y0, y1 = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    for c in range(n):
        lo, hi = c * CHUNK, min(len(xy), c * CHUNK + CHUNK + 1)
        x0[c], x1[c] = xy[lo:hi, 0].min(), xy[lo:hi, 0].max()
        y0[c], y1[c] = xy[lo:hi, 1].min(), xy[lo:hi, 1].max()
    return x0, x1, y0, y1
