"""Write a synthetic SNIPS-like benchmark in the ATIS/SNIPS folder format.

    python scripts/make_nlu_benchmark.py OUT_DIR [--train 10000] [--valid 700] [--test 700] [--seed 0]

It is a local stand-in for SNIPS, which cannot be downloaded here: the seven
SNIPS intents and most of its slot types, utterances made from templates and
slot values. It is *synthetic*: real SNIPS sentences are more varied, and
scores on this proxy are only an indication.

To make unseen words matter as they do in SNIPS, every word list the entity
values are made from (names, title words, cities, ...) is split: 70% of its
words appear in training, 10% only in validation and 20% only in the test
set, where about half of the entity values contain at least one held-out word.
About 15% of the templates of each intent are also held out of training.

Writes OUT_DIR/{train,valid,test}/{seq.in,seq.out,label}.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

# === Word lists the entity values are made from ===

FIRST = """james mary john linda robert patricia michael barbara william elizabeth david jennifer richard maria
charles susan joseph margaret thomas dorothy chris lisa daniel nancy matthew karen anthony betty mark helen
donald sandra steven donna paul carol andrew ruth joshua sharon kenneth michelle kevin laura brian sarah george
kimberly edward deborah ronald jessica timothy shirley jason cynthia jeffrey angela ryan melissa jacob brenda
gary amy nicholas anna eric rebecca stephen virginia jonathan kathleen larry pamela justin martha scott debra
brandon amanda frank stephanie benjamin carolyn gregory christine samuel marie raymond janet patrick catherine
alexander frances jack ann dennis joyce jerry diane tyler alice aaron julie jose heather henry teresa adam doris
douglas gloria nathan evelyn peter jean zachary cheryl kyle mildred walter katherine harold joan jeremy ashley
ethan judith carl rose keith janice roger kelly gerald nicole christian judy terry christina sean kathy arthur
theresa austin beverly noah denise lawrence tammy jesse irene joe jane bryan lori billy rachel""".split()

LAST = """smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson
anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez lewis robinson
walker young allen king wright scott torres nguyen hill flores green adams nelson baker hall rivera campbell
mitchell carter roberts gomez phillips evans turner diaz parker cruz edwards collins reyes stewart morris morales
murphy cook rogers gutierrez ortiz morgan cooper peterson bailey reed kelly howard ramos kim cox ward richardson
watson brooks chavez wood james bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers long
ross foster jimenez powell jenkins perry russell sullivan bell coleman butler henderson barnes gonzales fisher
vasquez simmons romero jordan patterson alexander hamilton graham reynolds griffin wallace moreno west cole hayes
bryant herrera gibson ellis tran medina aguilar stevens murray ford castro marshall owens harrison fernandez
mcdonald woods washington kennedy wells vargas henry chen freeman webb tucker guzman burns crawford olson simpson
porter hunter gordon mendez silva shaw snyder mason dixon munoz hunt hicks holmes palmer wagner black robertson
boyd rose stone salazar fox warren mills meyer rice schmidt garza daniels ferguson nichols stephens soto weaver
ryan gardner payne grant dunn kelley spencer hawkins arnold pierce vazquez hansen peters santos hart bradley
knight elliott cunningham duncan armstrong hudson carroll lane riley andrews alvarado ray delgado berry perkins
hoffman johnston matthews pena richards contreras willis carpenter lawrence sandoval""".split()

ADJ = """blue silent golden broken wild lonely electric secret bright dark hidden lost sweet bitter frozen burning
crimson gentle endless distant hollow velvet wicked holy quiet restless shallow fading falling rising silver
scarlet violet emerald savage tender brave fragile ancient modern midnight northern southern eastern western
little big lazy crazy happy sad perfect strange empty heavy simple easy rough smooth sleepy hungry angry humble
proud lucky naked painted rusty dusty misty stormy sunny cloudy rainy snowy windy foggy icy cosmic electric
neon paper glass iron stone wooden cotton copper marble crystal plastic faded vivid radiant mellow sacred
tangled twisted shattered forgotten forbidden endless infinite eternal final first last second""".split()

NOUN = """heart river moon sun star road night dream fire rain ocean city summer winter garden shadow light
mountain island kingdom forest desert storm thunder angel ghost king queen prince child soldier stranger
lover friend mirror window door house train station bridge tower castle wall field sky cloud wind snow rose
flower tree leaf seed bird wolf lion tiger horse dragon eagle raven snake fox bear whale shark butterfly
memory promise secret story song dance letter word name voice silence echo whisper prayer wish hope fear love
time world life death war peace glory empire revolution machine engine circus carnival parade harbor
lighthouse valley canyon lagoon meadow orchard vineyard village market temple palace cathedral library museum
theater cinema diary journal ticket passport compass map key crown sword shield arrow blade feather diamond
pearl ruby sapphire coin treasure highway avenue boulevard alley street corner horizon frontier border coast
shore beach wave tide current planet comet galaxy universe rocket satellite""".split()

GENRE = """jazz blues rock pop metal punk folk country soul funk disco reggae techno house trance ambient classical
opera gospel rap hip-hop indie grunge swing bluegrass salsa samba tango flamenco bossa-nova ska emo dubstep
drum-and-bass lo-fi chillout synthpop new-wave k-pop j-pop afrobeat zydeco celtic baroque""".split()

CITY = """london paris tokyo berlin madrid rome vienna prague budapest warsaw lisbon dublin oslo stockholm helsinki
copenhagen amsterdam brussels zurich geneva athens istanbul cairo nairobi lagos johannesburg casablanca dubai
mumbai delhi bangalore karachi dhaka bangkok hanoi manila jakarta singapore seoul beijing shanghai shenzhen
sydney melbourne auckland perth toronto montreal vancouver calgary chicago boston seattle denver phoenix dallas
houston austin atlanta miami orlando detroit portland memphis nashville baltimore philadelphia pittsburgh
cleveland cincinnati minneapolis milwaukee omaha tulsa albuquerque tucson sacramento fresno oakland honolulu
anchorage boise reno spokane tacoma savannah charleston richmond raleigh louisville lexington birmingham
montgomery jackson shreveport lubbock amarillo laredo mexico lima bogota santiago quito caracas havana
kingston panama montevideo asuncion reykjavik tallinn riga vilnius minsk kiev bucharest sofia belgrade zagreb
ljubljana sarajevo tirana skopje valletta nicosia beirut amman riyadh doha muscat tehran kabul tashkent almaty
ulaanbaatar kathmandu colombo yangon taipei osaka kyoto busan""".split()

STATE = """alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho
illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota mississippi
missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah vermont virginia
washington wisconsin wyoming""".split()

COUNTRY = """france germany spain italy portugal ireland norway sweden finland denmark netherlands belgium
switzerland austria greece turkey egypt kenya nigeria morocco india pakistan bangladesh thailand vietnam
philippines indonesia malaysia japan korea china australia canada mexico brazil argentina chile peru colombia
venezuela cuba jamaica iceland estonia latvia lithuania poland ukraine romania bulgaria serbia croatia slovenia
albania malta cyprus lebanon jordan qatar oman iran afghanistan nepal mongolia""".split()

CUISINE = """italian french chinese japanese thai indian mexican greek spanish korean vietnamese turkish lebanese
ethiopian moroccan brazilian peruvian cajun creole caribbean german polish russian persian afghan cuban
hawaiian filipino malaysian indonesian tex-mex southern""".split()

DISH = """pizza sushi ramen tacos burritos dumplings noodles curry paella risotto lasagna burgers steak oysters
lobster crab shrimp salmon pho kebab falafel hummus gyros crepes waffles pancakes bagels donuts pastries
cheesecake tiramisu gelato brisket ribs wings chowder gumbo jambalaya poutine pierogi goulash schnitzel
moussaka baklava churros empanadas ceviche arepas""".split()

REST_TYPE = """restaurant bistro diner cafe brasserie pub bar tavern steakhouse pizzeria trattoria taverna
food-truck buffet cafeteria tearoom teahouse gastropub""".split()

SERVICE = """spotify deezer pandora itunes youtube soundcloud groove-shark napster tidal last-fm vimeo zvooq
google-music""".split()

BOOK_TYPE = ["book", "novel", "textbook", "essay", "saga", "chronicle", "album", "series", "book series"]
CREATIVE_TYPE = ["movie", "film", "book", "novel", "song", "album", "tv show", "show", "television show", "game",
                 "video game", "painting", "picture", "photograph", "trailer", "soundtrack", "tv series",
                 "saga", "series", "novel series", "book series"]
MUSIC_ITEM = ["song", "track", "tune", "album", "artist", "music", "soundtrack", "record", "single"]
TIME_RANGE = ["tomorrow", "today", "tonight", "now", "next week", "this weekend", "at 5 pm", "at noon",
              "at 8:30 am", "in 2 hours", "in three weeks", "next friday", "on monday", "this evening",
              "on march 3rd", "at 7 o'clock", "in 10 minutes", "next month", "on christmas", "this afternoon",
              "in 1 second", "one hour from now", "at midnight", "on the 21st", "next year", "this summer",
              "on june 14th 2031", "at 9 pm on tuesday", "the day after tomorrow", "this morning", "sunday",
              "at 11:15 pm", "on new year's eve", "for 6 pm", "in twenty minutes", "in 5 days", "oct 2nd"]
TEMP = ["warm", "cold", "hot", "freezing", "chilly", "mild", "colder", "warmer", "hotter"]
CONDITION = ["rain", "snow", "sunny", "cloudy", "foggy", "stormy", "humid", "windy", "hail", "sleet",
             "snowstorm", "drizzle", "blizzard", "overcast", "thunderstorms", "clear skies"]
PARTY_DESC = ["my wife and i", "me and my friends", "my family", "my team", "my parents", "me and my kids",
              "my colleagues", "my husband and me", "my roommates", "my class"]
NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
SPATIAL = ["close by", "near", "nearby", "in the area", "close to", "around", "within walking distance of",
           "not far from", "next to", "in"]
SORT = ["best", "top-rated", "highest rated", "popular", "cheapest", "newest", "most popular", "top"]
FACILITY = ["with parking", "with wifi", "with outdoor seating", "that serves vegan food",
            "wheelchair accessible", "with a terrace", "with a pool", "that takes reservations"]
MOVIE_TYPE = ["animated movies", "films", "movies", "documentaries", "scary movies", "cartoons", "comedies",
              "action movies"]
LOCATION_TYPE = ["movie theatre", "cinema", "movie house", "theatre", "multiplex", "drive-in"]
OBJ_SELECT = ["this", "the current", "the previous", "this current", "the last", "the next"]
RATING_UNIT = ["stars", "points"]
SERIES_TYPE = ["series", "saga", "trilogy", "chronicle"]
POI = ["the airport", "my office", "the beach", "the stadium", "the mall", "central park", "the zoo", "my hotel",
       "the university", "the train station"]
GEO_POI = ["mount rainier", "yellowstone", "the grand canyon", "lake tahoe", "niagara falls", "the alps",
           "death valley", "yosemite", "the everglades", "big sur", "loch ness", "the sahara"]

HELD_LISTS = ["FIRST", "LAST", "ADJ", "NOUN", "GENRE", "CITY", "STATE", "COUNTRY", "CUISINE", "DISH"]


# === Entity value makers ===

class Values:
    """Slot values, drawn from the part of each word list a split may use."""

    def __init__(self, rng: random.Random, split: str, parts: dict[str, dict[str, list[str]]]) -> None:
        self.rng, self.split, self.parts = rng, split, parts
        self.held = split != "train" and rng.random() < 0.5  # this utterance uses held-out words

    def word(self, name: str) -> str:
        part = self.parts[name]
        if self.split == "train":
            return self.rng.choice(part["train"])
        if self.held and self.rng.random() < 0.6:
            return self.rng.choice(part[self.split])
        return self.rng.choice(part["train"])

    def pick(self, items: list[str]) -> str:
        return self.rng.choice(items)

    def person(self) -> str:
        r = self.rng.random()
        if r < 0.6:
            return f"{self.word('FIRST')} {self.word('LAST')}"
        if r < 0.8:
            return self.word("LAST")
        return f"the {self.word('ADJ')} {self.word('NOUN')}s"

    def title(self) -> str:
        w = self.word
        pattern = self.rng.randrange(10)
        return [
            lambda: f"{w('ADJ')} {w('NOUN')}",
            lambda: f"the {w('NOUN')} of the {w('NOUN')}",
            lambda: f"{w('NOUN')}",
            lambda: f"{w('NOUN')} in the {w('NOUN')}",
            lambda: f"the {w('ADJ')} {w('NOUN')}",
            lambda: f"{w('ADJ')} {w('NOUN')} {w('NOUN')}",
            lambda: f"a {w('NOUN')} for {w('FIRST')}",
            lambda: f"{w('NOUN')} and {w('NOUN')}",
            lambda: f"{w('FIRST')}'s {w('NOUN')}",
            lambda: f"return of the {w('NOUN')}",
        ][pattern]()

    def playlist(self) -> str:
        w = self.word
        return self.rng.choice([
            lambda: f"{w('ADJ')} {w('NOUN')}",
            lambda: f"{w('GENRE')} {self.pick(['hits', 'classics', 'essentials', 'mix', 'favorites', 'party'])}",
            lambda: f"{self.pick(['road trip', 'workout', 'study', 'sleep', 'dinner', 'morning', 'rainy day'])} {w('GENRE')}",
            lambda: f"{w('NOUN')} {self.pick(['vibes', 'songs', 'tunes', 'beats', 'jams'])}",
            lambda: f"{self.pick(['this is', 'best of', 'all out'])} {w('FIRST')} {w('LAST')}",
            lambda: self.pick(["road trip", "chill vibes", "workout", "throwback thursday", "sunday morning",
                               "late night", "focus", "party time", "summer hits", "rainy day"]),
        ])()

    def city(self) -> str:
        return self.word("CITY")

    def number(self) -> str:
        return self.pick(NUMBERS) if self.rng.random() < 0.4 else str(self.rng.randint(1, 14))


# Each slot name maps to a value maker.
def make_value(slot: str, v: Values) -> str:
    makers = {
        "artist": v.person, "entity_name": v.title, "playlist": v.playlist, "track": v.title, "album": v.title,
        "object_name": v.title, "movie_name": v.title, "restaurant_name": lambda: f"the {v.word('ADJ')} {v.word('NOUN')}",
        "playlist_owner": lambda: v.pick(["my", "my", "our", f"{v.word('FIRST')}'s", "the"]),
        "music_item": lambda: v.pick(MUSIC_ITEM), "genre": lambda: v.word("GENRE"), "service": lambda: v.pick(SERVICE),
        "year": lambda: v.pick([str(v.rng.randint(1950, 2024)), f"the {v.rng.randint(5, 9)}0s", f"{v.rng.randint(5, 9)}0s"]),
        "sort": lambda: v.pick(SORT), "city": v.city, "state": lambda: v.word("STATE"), "country": lambda: v.word("COUNTRY"),
        "timeRange": lambda: v.pick(TIME_RANGE), "party_size_number": v.number,
        "party_size_description": lambda: v.pick(PARTY_DESC), "spatial_relation": lambda: v.pick(SPATIAL),
        "restaurant_type": lambda: v.pick(REST_TYPE), "cuisine": lambda: v.word("CUISINE"),
        "served_dish": lambda: v.word("DISH"), "facility": lambda: v.pick(FACILITY), "poi": lambda: v.pick(POI),
        "condition_temperature": lambda: v.pick(TEMP), "condition_description": lambda: v.pick(CONDITION),
        "geographic_poi": lambda: v.pick(GEO_POI), "current_location": lambda: v.pick(["here", "my location", "current place", "where i am"]),
        "object_type": lambda: v.pick(CREATIVE_TYPE), "rating_value": lambda: v.pick([str(v.rng.randint(0, 6)), v.pick(NUMBERS[:6])]),
        "best_rating": lambda: v.pick(["5", "6", "10", "five", "six"]), "rating_unit": lambda: v.pick(RATING_UNIT),
        "object_select": lambda: v.pick(OBJ_SELECT), "object_part_of_series_type": lambda: v.pick(SERIES_TYPE),
        "movie_type": lambda: v.pick(MOVIE_TYPE), "location_name": lambda: f"{v.word('ADJ')} {v.pick(['cinemas', 'theatres', 'pictures', 'films'])}",
        "object_location_type": lambda: v.pick(LOCATION_TYPE), "book_type": lambda: v.pick(BOOK_TYPE),
    }
    return makers[slot]()


# === Templates: {slot} is a slot; [a|b|] picks one option (possibly empty) ===

TEMPLATES = {
    "AddToPlaylist": """
add {artist} to {playlist_owner} {playlist} playlist
add this {music_item} to {playlist_owner} {playlist} playlist
[please |can you |]add {entity_name} to {playlist_owner} playlist {playlist}
put {entity_name} by {artist} on {playlist_owner} {playlist} playlist
i want to add {entity_name} to the {playlist} playlist
add the {music_item} {entity_name} to {playlist_owner} {playlist}
[add|put|include] {artist} [in|on|to] {playlist_owner} {playlist} list
add {entity_name} to {playlist}
can i [get|have] {entity_name} added to {playlist_owner} {playlist} playlist
[insert|place] this {music_item} into {playlist_owner} playlist called {playlist}
add {artist} 's {music_item} to {playlist_owner} {playlist}
{playlist_owner} {playlist} playlist needs {entity_name} [by {artist}|]
[could you |]add the {music_item} by {artist} to {playlist}
include {entity_name} in {playlist_owner} {playlist} playlist please
save this {music_item} to {playlist_owner} {playlist}
add a {music_item} by {artist} to the {playlist} playlist
i'd like {entity_name} on {playlist_owner} {playlist} [playlist|list]
add {artist} to the {playlist} [playlist|]
throw {entity_name} onto {playlist_owner} {playlist} playlist
add this {music_item} to the list {playlist}
""",
    "BookRestaurant": """
book a table for {party_size_number} at a {restaurant_type} in {city}
[please |i want to |i'd like to |]book a {restaurant_type} for {party_size_number} [people|] {timeRange}
reserve a table at {restaurant_name} for {party_size_description} {timeRange}
book a {sort} {cuisine} {restaurant_type} in {state} for {party_size_number}
i need a reservation for {party_size_number} at a {restaurant_type} that serves {served_dish}
book a table {spatial_relation} {poi} for {party_size_number} {timeRange}
make a reservation at a {cuisine} {restaurant_type} {spatial_relation} {city} {timeRange}
reserve a {restaurant_type} in {country} for {party_size_description}
book me a table at {restaurant_name} in {city} {state}
[can you |]find a {restaurant_type} {facility} and book it for {party_size_number}
book a spot for {party_size_number} at a {served_dish} {restaurant_type} {timeRange}
reserve for {party_size_description} at a {sort} {restaurant_type} in {city}
i'd like to eat {served_dish} at a {restaurant_type} in {city} {timeRange}, book it for {party_size_number}
table for {party_size_number} at {restaurant_name} {timeRange} please
book a {cuisine} {restaurant_type} for {party_size_description} {spatial_relation} {current_location}
make me a reservation in {city} at a {restaurant_type} with {cuisine} food
reserve a table for {party_size_number} in a {restaurant_type} in {state} {timeRange}
we are {party_size_number}, book a {restaurant_type} {spatial_relation} {poi}
book {restaurant_name} for {party_size_number} [people|persons|guests] {timeRange}
i want to book a {restaurant_type} {facility} in {country}
""",
    "GetWeather": """
what will the weather be [like|] in {city} {timeRange}
[is it going to|will it] {condition_description} in {city} {timeRange}
what is the forecast for {city} {state} {timeRange}
will it be {condition_temperature} in {country} {timeRange}
how's the weather {spatial_relation} {geographic_poi} {timeRange}
[tell me |give me |]the weather forecast for {state}
is it {condition_temperature} {spatial_relation} {current_location}
what's the weather in {city}
weather {timeRange} in {country}
will there be {condition_description} in {state} {timeRange}
forecast {condition_description} for {city} {timeRange}
how {condition_temperature} will it be in {city} {timeRange}
is there a chance of {condition_description} {spatial_relation} {geographic_poi}
what is the weather like {spatial_relation} {current_location} {timeRange}
check the forecast in {city} {country}
will it get {condition_temperature} in {state} {timeRange}
do i need an umbrella in {city} {timeRange}
what's the temperature going to be in {country} {timeRange}
tell me if it will {condition_description} at {geographic_poi}
weather for {current_location} please
""",
    "PlayMusic": """
play [some |]{artist}
play the {music_item} {track} by {artist}
play {genre} music [on {service}|]
[i want to hear|let me hear|put on] {track}
play {artist} 's {album} album [on {service}|]
play a {sort} {music_item} from {year}
play {playlist} playlist
play some {genre} from the {year}
can you play {track} [from {artist}|] on {service}
play {music_item} by {artist} from {year}
start playing {album} by {artist}
use {service} to play {genre}
i'd like to listen to {artist} on {service}
play the {sort} {genre} {music_item}
put on some {genre} by {artist}
play {track}
play music from {year} by {artist}
listen to {album}
shuffle the {playlist} playlist on {service}
play a {music_item} from {artist}
""",
    "RateBook": """
rate this {object_type} {rating_value} out of {best_rating}
give {object_name} {rating_value} {rating_unit}
rate {object_select} {object_type} {rating_value} {rating_unit}
i give the {object_type} {object_name} a {rating_value}
rate {object_name} a {rating_value} out of {best_rating} [stars|]
give {object_select} {object_type} a rating of {rating_value} out of {best_rating}
i'd rate {object_name} {rating_value} {rating_unit}
{object_name} gets {rating_value} {rating_unit}
rate {object_select} {object_part_of_series_type} {rating_value} of {best_rating}
give the {object_part_of_series_type} {object_name} {rating_value} {rating_unit}
i think {object_name} deserves {rating_value} {rating_unit}
rate the {object_type} {object_name} with {rating_value} {rating_unit}
mark {object_select} {object_type} as {rating_value} out of {best_rating}
give {rating_value} {rating_unit} to {object_name}
award {object_select} {object_type} {rating_value} {rating_unit}
my rating for {object_name} is {rating_value} out of {best_rating}
rate {object_name} {rating_value}
give {object_select} {object_type} {rating_value} {rating_unit} out of {best_rating}
""",
    "SearchCreativeWork": """
find the {object_type} {object_name}
[can you |please |]search for {object_name}
i'm looking for the {object_type} called {object_name}
where can i [find|watch|get] {object_name}
show me the {object_type} {object_name}
find me {object_name}
look up the {object_type} {object_name}
search for a {object_type} named {object_name}
i want to see {object_name}
help me find the {object_type} {object_name}
show {object_name}
get me the {object_type} {object_name}
find {object_name} {object_type}
search {object_name}
what is the {object_type} {object_name} about
i need to find a {object_type} called {object_name}
""",
    "SearchScreeningEvent": """
what time is {movie_name} playing {timeRange}
find movie times for {movie_name} [at {location_name}|]
is {movie_name} playing at the {object_location_type} {timeRange}
show me {movie_type} playing {spatial_relation} {current_location}
what {movie_type} are showing at {location_name} {timeRange}
find the schedule for {movie_name} at the {object_location_type}
which {object_location_type} {spatial_relation} {current_location} shows {movie_name}
when is {movie_name} showing {timeRange}
i want to see {movie_name} at {location_name}
what are the movie schedules {timeRange} [at {location_name}|]
find {movie_type} at the {object_location_type} {timeRange}
show the showtimes for {movie_name} {spatial_relation} {current_location}
is {movie_name} on at {location_name}
where is {movie_name} playing {timeRange}
what's playing at the {object_location_type} {spatial_relation} {current_location}
find a {object_location_type} showing {movie_type} {timeRange}
can i see {movie_name} {timeRange}
list the {movie_type} showing at {location_name}
""",
}

_SLOT = re.compile(r"\{(\w+)\}")
_CHOICE = re.compile(r"\[([^\[\]]*)\]")


def expand(template: str, rng: random.Random) -> str:
    while True:
        m = _CHOICE.search(template)
        if not m:
            return template
        template = template[:m.start()] + rng.choice(m.group(1).split("|")) + template[m.end():]


def render(template: str, values: Values) -> tuple[list[str], list[str]]:
    tokens, tags = [], []
    pos = 0
    text = expand(template, values.rng)
    for m in _SLOT.finditer(text):
        for word in text[pos:m.start()].replace(",", " ").split():
            tokens.append(word), tags.append("O")
        value = make_value(m.group(1), values).split()
        tokens += value
        tags += [("B-" if i == 0 else "I-") + m.group(1) for i in range(len(value))]
        pos = m.end()
    for word in text[pos:].replace(",", " ").split():
        tokens.append(word), tags.append("O")
    return tokens, tags


def split_lists(rng: random.Random) -> dict[str, dict[str, list[str]]]:
    parts = {}
    for name in HELD_LISTS:
        words = sorted(set(globals()[name]))
        rng.shuffle(words)
        a, b = int(len(words) * 0.7), int(len(words) * 0.8)
        parts[name] = {"train": words[:a], "valid": words[a:b], "test": words[b:]}
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--train", type=int, default=10000)
    parser.add_argument("--valid", type=int, default=700)
    parser.add_argument("--test", type=int, default=700)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    parts = split_lists(rng)
    templates = {}
    for intent, block in TEMPLATES.items():
        lines = [t.strip() for t in block.strip().splitlines() if t.strip()]
        rng.shuffle(lines)
        k = max(2, round(len(lines) * 0.15))
        templates[intent] = {"train": lines[k:], "held": lines[:k]}
    intents = sorted(TEMPLATES)
    for split, n in (("train", args.train), ("valid", args.valid), ("test", args.test)):
        folder = args.out / split
        folder.mkdir(parents=True, exist_ok=True)
        seen = set()
        rows = []
        while len(rows) < n:
            intent = intents[len(rows) % len(intents)] if split != "train" else rng.choice(intents)
            pool = templates[intent]["train"]
            if split != "train" and rng.random() < 0.3:
                pool = templates[intent]["held"]
            tokens, tags = render(rng.choice(pool), Values(rng, split, parts))
            key = " ".join(tokens)
            if key in seen:
                continue
            seen.add(key)
            rows.append((tokens, tags, intent))
        rng.shuffle(rows)
        (folder / "seq.in").write_text("".join(" ".join(t) + "\n" for t, _, _ in rows), "utf-8")
        (folder / "seq.out").write_text("".join(" ".join(g) + "\n" for _, g, _ in rows), "utf-8")
        (folder / "label").write_text("".join(i + "\n" for _, _, i in rows), "utf-8")
        print(f"{split}: {len(rows)} utterances -> {folder}")


if __name__ == "__main__":
    main()
