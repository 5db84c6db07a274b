"""The procedural-faces renderer: a cartoon bust ray-cast on the pixel grid, a whole batch at once.

The head, nose, ears and a hair shell are ellipsoids fixed in the head's own frame; the head turns
(azimuth, about the vertical axis) and nods (elevation) about its centre, and each pixel's ray is
intersected with every ellipsoid analytically (orthographic camera looking down -z). Eyes, brows
and mouth are painted on the head's surface in its own coordinates, so they shift and foreshorten
as the head turns, and the nose sticks out past the cheek in a three-quarter view. Neck, shoulders
and long hair are flat shapes behind the head. Edges are about one pixel soft at any image size, so a
32 px render is anti-aliased without rendering 64 px and averaging.

World units: x runs left to right, y bottom to top; the head's centre is near (0, 0.1) and the
camera frames [-0.53, 0.53] x [-0.46, 0.60] of that world (ZOOM, VIEW_Y): a portrait cropped to
the head.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

# The camera frames the head and neck: the image spans [-1/ZOOM, 1/ZOOM] in x around x = 0 and as much in
# y around VIEW_Y, so the head fills most of the frame's width and, with the wide mouth of _paint_face, a
# smile (frown to open smile, facing the camera) changes 0.19 as much of a 32 px image as a head turn
# (profile to profile; summed squared difference, mean over 200 random faces). It was 0.12 with the
# earlier, smaller mouth, and no zoo beta-VAE gave the smile a dimension of its own.
ZOOM = 1.9
VIEW_Y = 0.07
HEAD_CENTRE = torch.tensor([0.0, 0.10, 0.0])  # the head turns about this point
HEAD_RADII = (0.44, 0.54, 0.46)
NOSE = ((0.0, -0.09, 0.39), (0.08, 0.12, 0.14))  # (centre in the head frame, radii)
EAR = ((0.43, 0.0, -0.04), (0.07, 0.13, 0.08))
SMALL_PARTS = (NOSE, ((EAR[0][0], *EAR[0][1:]), EAR[1]), ((-EAR[0][0], *EAR[0][1:]), EAR[1]))
SHELL = ((0.0, 0.04, -0.01), (0.49, 0.57, 0.50))  # hair: a slightly larger head, kept above the hairline
REACH = 0.62  # no ellipsoid point is farther than this from HEAD_CENTRE, whatever the pose


@dataclass(frozen=True)
class Grid:
    """The pixel grid of one image size: pixel centres in world units and the head's window."""

    size: int
    px: float  # one pixel in world units
    top: float
    x: torch.Tensor  # column centres, left to right
    y: torch.Tensor  # row centres, top to bottom (y points up)
    rows: slice  # the 3D work is done in the box around the head it can reach
    cols: slice


@functools.lru_cache(maxsize=4)
def grid(size: int) -> Grid:
    px = 2 / (size * ZOOM)
    top, left = VIEW_Y + 1 / ZOOM, -1 / ZOOM
    centre = float(HEAD_CENTRE[1])
    rows = slice(max(0, int((top - centre - REACH) / px)), min(size, int((top - centre + REACH) / px) + 1))
    cols = slice(max(0, int((-REACH - left) / px)), min(size, int((REACH - left) / px) + 1))
    x = left + (torch.arange(size) + 0.5) * px
    y = top - (torch.arange(size) + 0.5) * px
    return Grid(size, px, top, x, y, rows, cols)


LIGHT_ELEVATION = 0.6  # radians: the light comes from above, so the nose and chin cast shade
AMBIENT, DIFFUSE = 0.5, 0.55
SHIRT = (0.22, 0.30, 0.42)
SCLERA, IRIS, TEETH = (0.97, 0.97, 0.95), (0.16, 0.11, 0.09), (0.98, 0.98, 0.96)
HAIR_SIDE = (0.18, -0.15, -0.3, -0.3)  # by hair length: how far down the sides the hair shell reaches
HAIR_DROP = (None, -0.14, -0.30, -0.46)  # by hair length: where the hair behind the head ends (y; the frame: -0.456)


@dataclass(frozen=True)
class Pose:
    """Per-image parameters, each a float32 tensor with a leading batch dimension n."""

    azimuth: torch.Tensor  # (n,) radians, positive turns the face to the image's right
    elevation: torch.Tensor  # (n,) radians, positive tilts the face up
    smile: torch.Tensor  # (n,) -1 frown .. 1 open smile
    skin: torch.Tensor  # (n, 3) RGB
    lips: torch.Tensor  # (n, 3) RGB of the mouth: chosen per skin tone to stand out from it
    hair: torch.Tensor  # (n, 3) RGB
    hair_length: torch.Tensor  # (n,) int64 index into HAIR_SIDE / HAIR_DROP
    background: torch.Tensor  # (n, 3) RGB
    light: torch.Tensor  # (n,) radians, direction of the light about the vertical axis


def render(pose: Pose, size: int = 64) -> torch.Tensor:
    """A batch of poses -> float32 (n, 3, size, size) in [0, 1]."""
    n, g = len(pose.azimuth), grid(size)
    out = _backdrop(pose, g)
    rot = _rotation(pose.azimuth, pose.elevation)  # (n, 3, 3): head frame -> world
    up = torch.tensor(LIGHT_ELEVATION)
    light = torch.stack([pose.light.sin() * up.cos(), up.sin().expand(n), pose.light.cos() * up.cos()], 1)
    light = (rot.transpose(1, 2) @ light[:, :, None])[..., 0]  # the light in the head frame, (n, 3)
    x, y = g.x[g.cols].view(1, 1, -1), g.y[g.rows].view(1, -1, 1)

    head = _ellipsoid(rot, (0.0, 0.0, 0.0), HEAD_RADII, x, y, g.px)
    depth, cover, shade = head.depth.clone(), head.cover.clone(), head.shade(light)
    band = _small_parts_rows(pose.elevation, g)  # nose and ears are traced only in the rows they can reach
    for centre, radii in SMALL_PARTS:
        part = _ellipsoid(rot, centre, radii, x, y[:, band], g.px)
        near, lit, covered = depth[:, band], shade[:, band], cover[:, band]  # views: updated in place
        front = part.depth > near
        lit.copy_(torch.where(front, part.shade(light), lit))
        near.copy_(torch.where(front, part.depth, near))
        torch.maximum(covered, part.cover, out=covered)
    on_face = (depth == head.depth) & (head.w > 0)

    colour = pose.skin.view(n, 3, 1, 1).expand(n, 3, *depth.shape[1:]).clone()
    _paint_face(colour, head.u, head.v, on_face, pose)

    shell = _ellipsoid(rot, *SHELL, x, y, g.px)
    side = torch.tensor(HAIR_SIDE)[pose.hair_length].view(n, 1, 1)
    # The hairline: high on the forehead (w near 1), lower on the sides, down to the nape behind.
    w2 = shell.w.square()
    line = torch.where(shell.w > 0, side + (0.42 - side) * w2, side + (-0.75 - side) * w2)
    hair = ((shell.v - line) / 0.08).clamp_(0, 1) * shell.cover * (shell.depth > depth)
    colour.lerp_(pose.hair.view(n, 3, 1, 1).expand_as(colour), hair[:, None])
    shade = torch.lerp(shade, shell.shade(light), hair)
    cover = torch.maximum(cover, hair)

    colour.mul_(shade[:, None]).clamp_(0, 1)
    window = out[:, :, g.rows, g.cols]
    window.lerp_(colour, cover[:, None])
    return out


class _Hit:
    """Where each pixel's ray meets one ellipsoid: (n, h, w) tensors.

    The hit point in the ellipsoid's unit-sphere frame is q = a·x + b·y + g + t·d; its coordinates
    (u, v, w) are computed only when asked for, and shading takes the dot product with the light
    through the per-image coefficients, which is what keeps the small parts (nose, ears) cheap.
    """

    def __init__(
        self,
        coefficients: tuple[torch.Tensor, ...],
        x: torch.Tensor,
        y: torch.Tensor,
        t: torch.Tensor,
        depth: torch.Tensor,
        cover: torch.Tensor,
    ) -> None:
        self._coefficients, self._x, self._y, self._t = coefficients, x, y, t
        self.depth = depth  # world z of the visible surface; -inf where the ray misses
        self.cover = cover  # 0..1 coverage with a one-pixel soft edge

    def _along(self, vectors: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """(n,) per-image coefficients of x, y, 1 and t -> the (n, h, w) linear combination."""
        ca, cb, cg, cd = (v.view(-1, 1, 1) for v in vectors)
        return (ca * self._x + cg) + cb * self._y + self._t * cd

    @functools.cached_property
    def u(self) -> torch.Tensor:
        return self._along(tuple(m[:, 0] for m in self._coefficients))

    @functools.cached_property
    def v(self) -> torch.Tensor:
        return self._along(tuple(m[:, 1] for m in self._coefficients))

    @functools.cached_property
    def w(self) -> torch.Tensor:
        return self._along(tuple(m[:, 2] for m in self._coefficients))

    def shade(self, light: torch.Tensor) -> torch.Tensor:
        """Lambert shading with the unit-sphere point as the normal (close enough for a cartoon)."""
        q_dot_light = self._along(tuple((m * light).sum(1) for m in self._coefficients))
        return q_dot_light.clamp_(min=0).mul_(DIFFUSE).add_(AMBIENT)


def _ellipsoid(
    rot: torch.Tensor,
    centre: tuple[float, ...],
    radii: tuple[float, ...],
    x: torch.Tensor,
    y: torch.Tensor,
    px: float,
) -> _Hit:
    """Intersect the rays through (x, y) with an ellipsoid at `centre`, `radii` in the head frame.

    A ray's point in the ellipsoid's unit-sphere coordinates is linear in x, y and t:
    q = a·x + b·y + g + t·d, so |q|^2 = 1 is a quadratic in t with coefficients that are
    per-image constants times separable functions of x and y.
    """
    r = torch.tensor(radii)
    a, b, d = rot[:, 0, :] / r, rot[:, 1, :] / r, rot[:, 2, :] / r  # (n, 3): world x, y, z -> local
    g = -((rot.transpose(1, 2) @ HEAD_CENTRE) + torch.tensor(centre)) / r
    inv = 1 / (d * d).sum(1)  # 1 / |d|^2
    col: Callable[[torch.Tensor], torch.Tensor] = lambda v: v.view(-1, 1, 1)  # noqa: E731 - per-image scalar over the pixel grid
    half_b = (col((a * d).sum(1) * inv) * x) + (col((b * d).sum(1) * inv) * y + col((g * d).sum(1) * inv))
    c = (col((a * a).sum(1)) * x.square() + col(2 * (a * g).sum(1)) * x) + (
        col((b * b).sum(1)) * y.square() + col(2 * (b * g).sum(1)) * y + col((g * g).sum(1) - 1)
    )
    c = c.addcmul_(col(2 * (a * b).sum(1)), x * y).mul_(col(inv))
    disc = half_b.square().sub_(c)
    t = disc.clamp(min=0).sqrt_().sub_(half_b)
    # disc ≈ 2·radius·(distance inside the outline): one pixel of soft edge.
    cover = (disc * (1 / (2 * min(radii[:2]) * px))).clamp_(0, 1)
    depth = torch.where(disc > 0, t, -torch.inf)
    return _Hit((a, b, g, d), x, y, t, depth, cover)


def _small_parts_rows(elevation: torch.Tensor, g: Grid) -> slice:
    """Rows of the head window that the nose and ears can reach when the head nods at most this much.

    A head-frame point p lands at world y = HEAD_CENTRE_y + cos(e)·p_y + sin(e)·p_z whatever the
    azimuth, so the corners of each part's bounding box bound its rows; one pixel of margin for its
    soft edge.
    """
    tilt = float(elevation.abs().max()) if len(elevation) else 0.0
    ys = [
        float(HEAD_CENTRE[1]) + c * (cy + sy * ry) + s * (cz + sz * rz)
        for (_, cy, cz), (_, ry, rz) in SMALL_PARTS
        for sy in (-1, 1)
        for sz in (-1, 1)
        for c in (math.cos(tilt), 1.0)
        for s in (-math.sin(tilt), math.sin(tilt))
    ]
    first = max(0, int((g.top - max(ys)) / g.px) - 1 - g.rows.start)
    last = min(g.rows.stop - g.rows.start, int((g.top - min(ys)) / g.px) + 2 - g.rows.start)
    return slice(first, last)


def _rotation(azimuth: torch.Tensor, elevation: torch.Tensor) -> torch.Tensor:
    """(n,) angles -> (n, 3, 3) R = Ry(azimuth) @ Rx(elevation), taking head-frame vectors to the world."""
    ca, sa, ce, se = azimuth.cos(), azimuth.sin(), elevation.cos(), elevation.sin()
    zero, one = torch.zeros_like(ca), torch.ones_like(ca)
    ry = torch.stack([ca, zero, sa, zero, one, zero, -sa, zero, ca], 1).view(-1, 3, 3)
    rx = torch.stack([one, zero, zero, zero, ce, se, zero, -se, ce], 1).view(-1, 3, 3)
    return ry @ rx


def _backdrop(pose: Pose, g: Grid) -> torch.Tensor:
    """Background, shoulders, long hair and neck: flat shapes that do not turn with the head."""
    n, size = len(pose.azimuth), g.size
    x, y = g.x.view(1, 1, -1), g.y.view(1, -1, 1)
    fade = (1.06 - 0.12 * (y + 1) / 2).expand(1, size, size)  # a soft vertical gradient
    out = (pose.background.view(n, 3, 1, 1) * fade[:, None]).expand(n, 3, size, size).clamp(0, 1)
    shoulders = _soft(1 - (x / 0.95).square() - ((y + 1.2) / 0.64).square(), 0.06)
    out = out.lerp(torch.tensor(SHIRT).view(1, 3, 1, 1).expand_as(out), shoulders[:, None])
    drop = torch.tensor([-9.0 if v is None else v for v in HAIR_DROP])[pose.hair_length].view(n, 1, 1)
    shift = (-0.12 * pose.azimuth.sin()).view(n, 1, 1)  # hair behind the head swings the other way
    # An ellipse around the head stretched down to `drop`, with rounded bottom corners.
    above, below = (y - HEAD_CENTRE[1]).clamp(min=0), (drop + 0.12 - y).clamp(min=0)
    hair = _soft(1 - ((x - shift) / 0.52).square() - (above / 0.64).square() - (below / 0.12).square(), 0.08)
    hair = hair * (drop > -9)
    out = out.lerp(pose.hair.view(n, 3, 1, 1).expand_as(out), hair[:, None])
    neck = _soft(0.16 - x.abs(), g.px) * _soft(y + 0.85, g.px) * _soft(0.0 - y, g.px)
    skin = (pose.skin * 0.72).view(n, 3, 1, 1).expand_as(out)  # in the shadow of the chin
    return out.lerp(skin, neck.expand(n, size, size)[:, None]).contiguous()


def _paint_face(colour: torch.Tensor, u: torch.Tensor, v: torch.Tensor, on_face: torch.Tensor, pose: Pose) -> None:
    """Eyes, brows and mouth, in the head's unit-sphere coordinates (u right, v up), into colour in place."""
    n = colour.shape[0]
    au = u.abs() - 0.37  # both eyes at once: distance from the nearer eye's centre line
    sclera = _soft(1 - (au / 0.17).square() - ((v - 0.10) / 0.12).square(), 0.25) * on_face
    iris = _soft(1 - (au / 0.085).square() - ((v - 0.08) / 0.10).square(), 0.35) * sclera
    brow_line = 0.33 + 0.05 * (1 - (au / 0.17).square())
    brow = _soft(0.045 - (v - brow_line).abs(), 0.03) * _soft(0.17 - au.abs(), 0.03) * on_face
    s = pose.smile.view(n, 1, 1)
    # The smile must be visible on every skin tone and at 32 px, and grow with the smile, so that one
    # direction in pixel space follows it: a wide cartoon mouth whose corners rise 0.60 of the head's
    # half-height from frown to smile, lips that thicken from a thin line (frown) to 0.16 (neutral) and
    # then open to show teeth, coloured to contrast with the skin. (Before, the frown was an arch as thick
    # as the smile's opening, so the mouth's area was U-shaped in the smile, and the beta-VAEs coded the
    # smile as a radius around the head-turn dimensions.)
    width, level = 0.68 + 0.06 * s.clamp(min=0), -0.50
    bend = 1 - (u / width).square()  # 1 in the middle of the mouth, 0 at the corners
    corner = level + 0.36 * s
    centre = corner + (level - corner) * bend
    half = (0.05 + 0.05 * (s + 1)) * bend  # 0.05 (frown), 0.10 (neutral), 0.15 (smile) in the middle
    top = centre + half
    bottom = centre - half - 0.36 * s.clamp(min=0) * bend
    mouth = _soft(torch.minimum(top - v, v - bottom), 0.03) * (bend > 0) * on_face
    teeth = mouth * _soft(v - (top - 0.10), 0.03) * _soft(top - bottom - 0.20, 0.03)
    for mask, rgb in ((sclera, SCLERA), (iris, IRIS)):
        colour.lerp_(torch.tensor(rgb).view(1, 3, 1, 1).expand_as(colour), mask[:, None])
    colour.lerp_(pose.lips.view(n, 3, 1, 1).expand_as(colour), mouth[:, None])
    colour.lerp_(torch.tensor(TEETH).view(1, 3, 1, 1).expand_as(colour), teeth[:, None])
    colour.lerp_((pose.hair * 0.8).view(n, 3, 1, 1).expand_as(colour), brow[:, None])


def _soft(distance: torch.Tensor, width: float) -> torch.Tensor:
    """A signed inside-distance -> coverage 0..1 over a ramp `width` wide (centred on the edge)."""
    return (distance * (1 / width) + 0.5).clamp_(0, 1)
