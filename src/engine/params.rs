//! Game parameters (`[game]` in an experiment file), with the canonical Fishbanks
//! defaults of docs/DESIGN.md §3.

use serde::{Deserialize, Serialize};

/// The two fishing areas. The harbor is not an area: ships there catch nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    Deep,
    Coast,
}

impl Area {
    pub const ALL: [Area; 2] = [Area::Deep, Area::Coast];

    /// Index into the per-area arrays (`[deep, coast]`).
    pub fn index(self) -> usize {
        match self {
            Area::Deep => 0,
            Area::Coast => 1,
        }
    }
}

/// How the per-year order limit is derived from a team's fleet.
///
/// Both rules give `ceil(ships / 2)` for integer fleets (half of an integer is either
/// whole or ends in .5, which "round half up" sends up); the switch exists because the
/// design names both and a future rule may differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderLimit {
    /// `round(ships / 2)`, half up.
    #[default]
    Round,
    /// `ceil(ships / 2)`.
    Ceil,
}

/// Which stocks decide that the fishery has collapsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollapseRule {
    /// Collapsed as soon as one area's post-harvest density is below the threshold.
    #[default]
    AnyArea,
    /// Collapsed when combined stock / combined capacity is below the threshold.
    Total,
}

/// Everything about one area that the rules need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaParams {
    /// Carrying capacity (fish).
    pub max_stock: i64,
    /// Stock at the start of year 1.
    pub initial_stock: i64,
    /// Operating cost per ship and year ($).
    pub cost: i64,
    /// Multiplier of the regeneration table (fish per year at table value 1).
    pub regen_scale: f64,
    /// Catch per ship at densities 0, 0.1, …, 1.0 (linear interpolation).
    pub catch_table: Vec<f64>,
}

/// All rule parameters. Every field has the docs/DESIGN.md §3 default, so a `[game]` table only
/// lists what it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GameParams {
    pub deep: AreaParams,
    pub coast: AreaParams,
    /// Operating cost of a ship kept in the harbor ($/year).
    pub harbor_cost: i64,
    /// Ships each team starts with.
    pub initial_ships: u32,
    /// Bank balance each team starts with ($).
    pub initial_bank: i64,
    /// Price per fish ($).
    pub fish_price: i64,
    /// Price of a new ship ($), paid when ordered, delivered next year.
    pub ship_price: i64,
    pub order_limit: OrderLimit,
    /// Interest rate on a non-negative minimum balance.
    pub credit_rate: f64,
    /// Interest rate on a negative minimum balance.
    pub debit_rate: f64,
    /// Regeneration at densities 0, 0.1, …, 1.0, multiplied by an area's `regen_scale`.
    pub regen_table: Vec<f64>,
    /// Whether catches are multiplied by the weather series.
    pub weather: bool,
    /// The weather series; year `y` uses `weather_series[y % len]`.
    pub weather_series: Vec<f64>,
    /// Ship value before year 1 ($); from year 1 on it moves halfway towards the year's
    /// average profit per ship.
    pub initial_ship_value: i64,
    /// Density below which an area counts as collapsed (checked after harvest).
    pub collapse_density: f64,
    pub collapse_rule: CollapseRule,
    /// End the run in the collapse year instead of playing every year.
    pub stop_on_collapse: bool,
    /// Whether agents see each area's density (two decimals).
    pub reveal_stock: bool,
    /// The classroom game's ship market (`[game.market]`), off by default.
    #[serde(skip_serializing_if = "MarketParams::is_off")]
    pub market: MarketParams,
}

/// The ship market of the classroom game: before each year's decisions the game master
/// may auction ships, and teams may sell ships to one another. Off by default; when off
/// it is left out of every record (run ids of games without it stay as they were).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketParams {
    /// Ships the game master auctions each year (0: no auction). They go to the highest
    /// prices, each winner pays its own bid (pay-as-bid), the money leaves the game, and
    /// the ships arrive at once.
    pub auction_ships: u32,
    /// Whether teams may offer ships to one another at an asking price.
    pub trades: bool,
    /// Rounds of offers and acceptances each year, when trades are on.
    pub trade_rounds: u32,
    /// The highest price per ship a bid or an offer may name ($).
    pub max_price: i64,
}

impl Default for MarketParams {
    fn default() -> Self {
        MarketParams {
            auction_ships: 0,
            trades: false,
            trade_rounds: 1,
            max_price: 3000,
        }
    }
}

impl MarketParams {
    /// Whether there is no market at all.
    pub fn is_off(&self) -> bool {
        self.auction_ships == 0 && !self.trades
    }
}

/// Ships per team at the start in Meadows' game: about 24 ships in all (6 teams: 4 each,
/// 4 teams: 6, 8 teams: 3), at least 1. The bank starts at $200 a ship.
pub fn meadows_ships(teams: usize) -> u32 {
    ((24.0 / teams.max(1) as f64).round() as u32).max(1)
}

impl Default for GameParams {
    fn default() -> Self {
        GameParams {
            deep: AreaParams {
                max_stock: 3000,
                initial_stock: 2500,
                cost: 250,
                regen_scale: 50.0,
                catch_table: vec![0., 5., 10., 15., 20., 25., 25., 25., 25., 25., 25.],
            },
            coast: AreaParams {
                max_stock: 1500,
                initial_stock: 1200,
                cost: 150,
                regen_scale: 30.0,
                catch_table: vec![0., 3., 6., 9., 12., 15., 15., 15., 15., 15., 15.],
            },
            harbor_cost: 50,
            initial_ships: 4,
            initial_bank: 800,
            fish_price: 20,
            ship_price: 300,
            order_limit: OrderLimit::Round,
            credit_rate: 0.05,
            debit_rate: 0.15,
            regen_table: vec![0., 1., 2., 4., 7., 10., 11., 9.5, 5.5, 3., 0.],
            weather: true,
            weather_series: vec![
                1.00, 1.03, 0.87, 1.14, 1.05, 0.94, 0.90, 1.02, 1.08, 0.89, 1.08, 1.10, 1.01, 1.13,
                1.06, 1.19, 1.16, 1.10, 1.01, 1.07,
            ],
            initial_ship_value: 250,
            collapse_density: 0.05,
            collapse_rule: CollapseRule::AnyArea,
            stop_on_collapse: false,
            reveal_stock: true,
            market: MarketParams::default(),
        }
    }
}

impl GameParams {
    pub fn area(&self, area: Area) -> &AreaParams {
        match area {
            Area::Deep => &self.deep,
            Area::Coast => &self.coast,
        }
    }

    /// The most ships a team with `ships` ships may order this year.
    pub fn order_limit(&self, ships: u32) -> u32 {
        match self.order_limit {
            OrderLimit::Round => (ships as f64 / 2.0 + 0.5).floor() as u32,
            OrderLimit::Ceil => ships.div_ceil(2),
        }
    }

    /// Weather multiplier of (1-based) year `year`.
    pub fn weather_of(&self, year: u32) -> f64 {
        if !self.weather || self.weather_series.is_empty() {
            return 1.0;
        }
        self.weather_series[year as usize % self.weather_series.len()]
    }

    /// Density at which regeneration peaks (the first maximum of the table).
    pub fn msy_density(&self) -> f64 {
        let (idx, _) = self
            .regen_table
            .iter()
            .enumerate()
            .fold(
                (0, f64::MIN),
                |best, (i, &v)| if v > best.1 { (i, v) } else { best },
            );
        idx as f64 / (self.regen_table.len().max(2) - 1) as f64
    }

    /// Maximum sustainable yield of an area (fish per year): the peak of its regeneration.
    pub fn msy(&self, area: Area) -> f64 {
        let peak = self.regen_table.iter().cloned().fold(0.0, f64::max);
        self.area(area).regen_scale * peak
    }

    /// Ships that, at the MSY density and neutral weather, catch exactly the MSY of an area
    /// (about 22 in each area with the defaults).
    pub fn sustainable_fleet(&self, area: Area) -> f64 {
        let per_ship = interpolate(&self.area(area).catch_table, self.msy_density());
        if per_ship <= 0.0 {
            0.0
        } else {
            self.msy(area) / per_ship
        }
    }

    /// Catch per ship in an area at a density, before weather and crowding.
    pub fn catch_per_ship(&self, area: Area, density: f64) -> f64 {
        interpolate(&self.area(area).catch_table, density)
    }

    /// Regeneration of an area (fish, unrounded) at a density.
    pub fn regeneration(&self, area: Area, density: f64) -> f64 {
        self.area(area).regen_scale * interpolate(&self.regen_table, density)
    }
}

/// Piecewise-linear lookup on a table sampled at equal steps over `[0, 1]`, with the
/// arithmetic of Meadows' Fishbanks program (its `table` function), so that every floored
/// result is bit-identical to it.
///
/// The breakpoints are `x_k = k / (n - 1)` (for 11 points exactly the decimal literals 0.1,
/// 0.2, …, 1.0: an integer divided by an integer is correctly rounded). The segment is the
/// one ending at the first breakpoint at or above `x`, and the slope divides by the
/// difference of its two breakpoints:
/// `y_{k-1} + (y_k − y_{k-1}) · (x − x_{k-1}) / (x_k − x_{k-1})`. `x ≤ 0` reads the first
/// entry and `x > 1` the last.
///
/// Why it matters: the mathematically equal form through `x_i = i / 10` and a step of
/// `1 / 10` gives 7.499999999999998 at density 0.75 where Meadows' program gives 7.5, and
/// the floor of the regeneration turns that into 224 coast fish instead of 225, after which
/// the two games differ for good.
pub fn interpolate(table: &[f64], x: f64) -> f64 {
    match table.len() {
        0 => 0.0,
        1 => table[0],
        n => {
            if x <= 0.0 {
                return table[0];
            }
            let segments = (n - 1) as f64;
            let breakpoint = |k: usize| k as f64 / segments;
            // Beyond the last breakpoint (x > 1, or NaN): the last entry.
            if x > 1.0 || x.is_nan() {
                return table[n - 1];
            }
            // The first breakpoint at or above x: a guess from `x · segments`, then moved
            // until it is exactly that breakpoint (the guess can be one off in the last bit).
            let mut k = ((x * segments).ceil() as usize).clamp(1, n - 1);
            while k > 1 && x <= breakpoint(k - 1) {
                k -= 1;
            }
            while k < n - 1 && x > breakpoint(k) {
                k += 1;
            }
            let (x0, x1) = (breakpoint(k - 1), breakpoint(k));
            table[k - 1] + (table[k] - table[k - 1]) * (x - x0) / (x1 - x0)
        }
    }
}
