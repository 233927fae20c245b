"""Synthetic planning data for fine-tuning the controller: requests, files and gold plans.

Why synthetic: the planner's dev set and TaskBench measure, they must not teach, and no other
labelled data exists offline. The generator composes requests from our own phrase tables (every
catalogue task, in several wordings each), task graphs (single tasks, chains of 2-4, two tasks
on one input, one task on two files, fan-out, fan-in), file names, follow-ups on
``previous-result.txt`` and chit-chat with empty plans.

Text arguments are written the way the live decoder can reproduce them: a copied text argument is
a span of the request that starts at the request's start or right after a colon or an opening
quote (``core.planner.span_starts``); if the request has none of those marks, anywhere. So inline
text comes after a colon at the end of the request ("Read this aloud: ..."), between quotes, or
is the whole request; ``span_is_reachable`` checks it and unreachable samples are redrawn.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.plan import parse, validate
from core.planner import FREE_TEXT_KEYS, QUOTE_MARKS
from core.tasks import AUDIO, IMAGE, TASK_NAMES, TEXT, get_task, kind_of_file, produces

PREVIOUS = "previous-result.txt"


@dataclass
class Sample:
    """One training request: what the user wrote, the attached files, the gold plan."""

    request: str
    files: list[str]
    plan: list[dict[str, Any]]
    history: list[tuple[str, str]] = field(default_factory=list)
    shape: str = "single"

    def to_json(self) -> dict[str, Any]:
        return {"request": self.request, "files": self.files, "plan": self.plan,
                "history": [list(t) for t in self.history], "shape": self.shape}


# ---------------------------------------------------------------- vocabulary pools

IMAGE_STEMS = (
    "beach", "receipt", "kitchen", "IMG_4821", "scan_02", "whiteboard", "poster", "menu", "street",
    "dog", "cat", "garden", "family", "selfie", "chart", "flyer", "screenshot", "sunset",
    "living_room", "car", "traffic", "shelf", "fridge", "office", "painting", "sketch", "bridge",
    "market", "birthday", "hike", "photo", "picture", "image1", "DSC00127", "mountain", "lake",
    "concert", "classroom", "parking_lot", "bakery", "bus_stop", "sign", "note", "page3",
    "holiday-2023", "team_photo", "product", "label", "book_cover", "map", "drawing", "plant",
    "bird", "horses", "desk", "room", "portrait", "crowd", "stadium", "park", "skyline",
)
DOC_STEMS = ("invoice", "receipt", "form", "bill", "contract", "letter", "ticket", "statement",
             "certificate", "timetable", "payslip", "prescription", "report_page", "id_card")
AUDIO_STEMS = (
    "meeting", "voicemail", "lecture", "interview", "podcast", "memo", "call", "recording_01",
    "note", "announcement", "song", "birds", "clip", "speech", "dictation", "standup", "talk",
    "message", "class", "sermon", "radio", "customer_call", "audio", "rec_0412", "session",
    "voice_note", "street_noise", "doorbell", "music", "sample", "briefing", "webinar",
)
TEXT_STEMS = ("notes", "report", "article", "essay", "minutes", "letter", "email", "draft",
              "story", "review", "transcript", "summary", "news", "chapter1", "instructions",
              "feedback", "post", "abstract", "diary", "speech")
IMAGE_EXTS = (".jpg", ".jpg", ".jpg", ".png", ".png", ".jpeg", ".webp", ".bmp", ".gif", ".tiff")
AUDIO_EXTS = (".wav", ".wav", ".wav", ".mp3", ".mp3", ".flac", ".ogg", ".m4a")
TEXT_EXTS = (".txt", ".txt", ".txt", ".md")

LANGUAGES = ("French", "German", "Spanish", "Italian", "Portuguese", "Dutch", "Japanese",
             "Chinese", "Korean", "Russian", "Arabic", "Swedish", "Polish", "Turkish", "Greek",
             "English", "Hindi", "Norwegian")

SENTENCES = (
    "good morning, the meeting starts at ten", "please remember to buy milk on the way home",
    "the train to Hamburg leaves from platform four", "I will be twenty minutes late today",
    "happy birthday, I hope you have a wonderful day", "the library is closed on Sundays",
    "can you send me the slides from yesterday", "dinner is ready, come to the table",
    "the weather will be sunny with light winds", "thank you for coming to our shop",
    "please turn off the lights when you leave", "the package arrived this morning",
    "we are moving the party to Saturday evening", "your appointment is confirmed for Monday",
    "the museum opens at nine and closes at six", "keep calm and carry on",
    "the quick brown fox jumps over the lazy dog", "welcome aboard flight two one seven",
    "don't forget to water the plants", "the results will be published next week",
    "my phone battery is almost empty", "lunch will be served in the main hall",
    "the elevator is out of order today", "I love walking by the river at sunset",
    "our team won the final match", "please wash your hands before eating",
    "the store will open an hour later tomorrow", "where is the nearest pharmacy",
    "I would like a table for two", "how much does this jacket cost",
    "the concert was cancelled because of the storm", "this soup tastes amazing",
    "the kids are playing in the garden", "see you next week at the same time",
    "the printer on the second floor is jammed", "the new bridge will open in spring",
    "we need more chairs for the guests", "the exam starts at half past eight",
    "bring a warm jacket, it will be cold tonight", "the cat is sleeping on the sofa",
)
REVIEWS = (
    "the battery died after two days", "absolutely loved the food and the friendly staff",
    "the delivery was late and the box was damaged", "best concert I have been to in years",
    "the hotel room was dirty and noisy", "this app makes my life so much easier",
    "the movie was boring and far too long", "great value for the price, I would buy it again",
    "customer service never answered my emails", "the new update fixed every problem I had",
    "I am really disappointed with the quality", "what a lovely surprise, thank you so much",
    "the waiter was rude and the soup was cold", "fast shipping and it works perfectly",
    "the screen cracked on the first day", "my kids adore this game",
    "the instructions were confusing and parts were missing", "the view from the room was stunning",
)
NER_SENTENCES = (
    "Anna Schmidt moved from Berlin to Vienna to work for Siemens",
    "Barack Obama met Angela Merkel in Paris on Tuesday",
    "Maria Lopez joined Google in Zurich last March",
    "The Louvre in Paris welcomed ten million visitors in 2019",
    "Satya Nadella announced the deal in Seattle on Friday",
    "Kenji Tanaka flew from Osaka to London with British Airways",
    "The United Nations held its summit in Geneva in June",
    "Priya Patel and Tom Becker opened a bakery in Dublin",
    "Apple opened a new store in Milan on the first of May",
    "Dr. Elena Rossi works at the University of Bologna",
    "Lionel Messi signed with Inter Miami in July 2023",
    "Amazon is building a warehouse near Lyon",
    "Sarah Connor called the police station in Los Angeles",
    "The Red Cross sent doctors to Nairobi in October",
    "Jonas Berg from Volvo will visit Stockholm next week",
    "Marie Curie was born in Warsaw in 1867",
)
PARAGRAPHS = (
    "The city council met on Tuesday to discuss the new bike lanes. After a long debate, the "
    "members voted to fund two lanes downtown and to review the plan next year.",
    "Our company had a strong quarter. Sales grew by twelve percent, mostly thanks to the new "
    "online shop, and we hired thirty people in the support team.",
    "The school trip to the mountains is planned for June. Students need a signed permission "
    "form, good shoes and a packed lunch. The bus leaves at seven in the morning.",
    "Heavy rain flooded several streets in the old town last night. Firefighters pumped water "
    "out of basements, and the main road will stay closed until Thursday.",
    "Researchers found that people who walk for thirty minutes a day sleep better. The study "
    "followed two thousand adults for three years.",
    "The library will move to a new building in the spring. During the move, books can be "
    "returned at the town hall, and the reading room will be closed for two weeks.",
    "Our football club won the regional cup after a tense final. The winning goal came in the "
    "last minute, and the fans celebrated in the square until midnight.",
    "The new phone has a larger screen and a better camera, but the battery is smaller than "
    "before. Reviewers liked the design but complained about the price.",
    "Volunteers planted five hundred trees along the river on Saturday. The project aims to "
    "reduce flooding and to give birds a place to nest.",
    "The hospital opened a new children's ward this week. It has twenty beds, a playroom and a "
    "garden, and it was paid for by local donations.",
    "Train services between the two cities will be reduced in August because of track repairs. "
    "Passengers are asked to check the timetable before they travel.",
    "The bakery on Main Street is closing after forty years. The owners are retiring, and they "
    "thanked their customers for decades of loyalty.",
    "A new study shows that honey bees can recognise human faces. The bees were trained with "
    "sugar rewards and remembered the faces for two days.",
    "The museum will show paintings from private collections this autumn. Tickets go on sale "
    "next month, and students get in free on Wednesdays.",
)
QUESTIONS_IMAGE = (
    "how many people are in the picture?", "what colour is the car?", "is there a dog in it?",
    "what is the man holding?", "what time does the clock show?", "is it raining?",
    "what is written on the sign?", "how many birds are on the wire?", "what is on the table?",
    "is the door open or closed?", "what animal is this?", "what is the woman wearing?",
    "are the lights on?", "which fruit is on the plate?", "how many windows can you see?",
)
QUESTIONS_DOC = (
    "what is the total amount?", "when is the payment due?", "what is the invoice number?",
    "who signed the contract?", "what is the date on this letter?", "what is the address?",
    "how much tax was charged?", "what is the name of the patient?", "when does the train leave?",
    "what is the account number?", "who is the sender?", "what is the expiry date?",
)
QA_PAIRS = (
    ("The museum opens at nine and closes at five. Entry is free on Sundays.",
     "When does the museum close?"),
    ("Mount Fuji is the highest mountain in Japan and rises 3,776 metres above sea level.",
     "How high is Mount Fuji?"),
    ("The meeting was moved from Monday to Wednesday because the manager is travelling.",
     "Why was the meeting moved?"),
    ("Tom bought three apples and two pears at the market, and he paid four euros.",
     "How much did Tom pay?"),
    ("The river Danube flows through ten countries before it reaches the Black Sea.",
     "Where does the Danube end?"),
    ("Our office is on the fifth floor, next to the lifts, and reception is on the ground floor.",
     "Which floor is the office on?"),
    ("The bakery sells bread until noon and cakes until six in the evening.",
     "Until when are cakes sold?"),
    ("Lisa started learning the piano at the age of seven and now teaches music in Oslo.",
     "Where does Lisa teach?"),
    ("The bridge was built in 1932 and was repaired after the flood of 2002.",
     "When was the bridge built?"),
    ("Penguins live mostly in the southern hemisphere, and emperor penguins breed in Antarctica.",
     "Where do emperor penguins breed?"),
)
QUESTIONS_TEXT = ("What is the main decision?", "Who is mentioned?", "When is the deadline?",
                  "What went wrong?", "What is the price?", "Where will it take place?")
IMAGE_DESCRIPTIONS = (
    "a red lighthouse at sunset", "a cat wearing a tiny hat", "a castle on a hill",
    "a bowl of fresh strawberries", "an astronaut riding a horse", "a snowy forest at night",
    "a robot reading a book in a library", "a small boat on a calm lake",
    "a city skyline in the rain",
    "a cosy cabin in the mountains", "a dragon flying over the sea", "a bicycle leaning on a wall",
    "two foxes playing in the snow", "a cup of coffee on a wooden table", "a field of sunflowers",
    "an old map of a treasure island", "a futuristic train station", "a dog surfing a wave",
    "a birthday cake with candles", "a watercolor of a harbour town",
)
EDIT_INSTRUCTIONS = (
    "make it look like a watercolor painting", "turn the sky purple", "add snow to the scene",
    "make it black and white", "turn it into a pencil sketch", "make it look like a cartoon",
    "remove the people in the background", "change the season to autumn",
    "make it brighter", "give it an old film look", "replace the car with a bicycle",
    "make it look like a Van Gogh painting",
)
STORY_STARTS = (
    "The robot opened the door and saw", "Once upon a time, a small fox lived",
    "It was the last train of the night, and", "When the lights went out in the museum,",
    "The letter had no name on it, only", "On the first day of school, Mia",
)
WRITING_TOPICS = ("autumn leaves", "the sea", "my grandmother's garden", "a rainy Monday",
                  "friendship", "a lost umbrella", "the first snow", "coffee", "the moon",
                  "a trip to Lisbon", "learning to ride a bike", "city lights")
WRITING_KINDS = ("a short poem", "a haiku", "a short story", "a limerick", "a few lines",
                 "a song verse")
EMAIL_PURPOSES = ("asking my landlord to fix the heating", "thanking a colleague for her help",
                  "asking for a day off on Friday", "inviting my team to a picnic",
                  "apologising for missing the meeting")
CHAT_TOPICS = ("your favourite films", "cooking pasta", "the best way to learn a language",
               "space travel", "football", "healthy breakfast ideas", "weekend plans",
               "good books for a holiday", "how to stay motivated")
MASKED = ("The capital of Italy is [MASK].", "I drink a cup of [MASK] every morning.",
          "The [MASK] barked at the postman.", "She plays the [MASK] in a band.",
          "We went to the [MASK] to buy bread.", "Paris is the capital of [MASK].",
          "He opened the [MASK] and walked inside.", "The sun rises in the [MASK].")
BAD_GRAMMAR = ("she go to school every days", "me and him was at the park yesterday",
               "they has three cat", "I didn't saw nothing", "the childs is playing outside",
               "he don't like apples", "we was very happy to seen you",
               "there is many reason for this", "i can has a coffee please")
SIMILAR_PAIRS = (("the cat sleeps on the mat", "a kitten naps on a rug"),
                 ("I lost my keys", "my keys are missing"),
                 ("the weather is nice today", "it is a beautiful day"),
                 ("he bought a new car", "she sold her old bike"),
                 ("the shop opens at nine", "the store starts business at 9"),
                 ("I am hungry", "I would like something to eat"),
                 ("the flight was cancelled", "the plane did not take off"),
                 ("she likes tea", "the stock market fell sharply"))
LABEL_SETS = (("sports", "politics", "technology"), ("complaint", "praise", "question"),
              ("cooking", "travel", "finance"), ("urgent", "not urgent"),
              ("positive", "negative", "neutral"), ("billing", "shipping", "returns"),
              ("health", "education", "entertainment"), ("spam", "not spam"),
              ("work", "family", "hobby"))
ZS_TEXTS = ("the oven needs to preheat for ten minutes", "my flight was delayed by two hours",
            "the team scored in the final minute", "the new chip is twice as fast",
            "please refund my last order", "the parliament passed the new law",
            "can I change my delivery address", "win a free phone now, click here",
            "the doctor said I should rest for a week")
CHITCHAT = (
    "Hello!", "Hi there!", "Hey", "Good morning!", "Good evening.", "Thanks!",
    "Thank you so much!", "Great, thanks a lot.", "Perfect, that's what I needed.",
    "Who are you?", "What can you do?", "What are you?", "Which tasks can you do?",
    "Are you running offline?", "Do you need the internet?", "How do I attach a file?",
    "Bye!", "See you later.", "OK.", "Cool!", "Nice work.", "Thanks, that was helpful!",
    "Who made you?", "What models do you use?", "Hi, how are you?", "Good night!",
    "That's all for now.", "Awesome.", "Never mind.", "Hello, what can you help me with?",
)
CONVERSATION = (
    "Tell me a joke.", "Tell me something interesting.", "What should I cook tonight?",
    "Give me some advice on staying focused.", "Recommend a good book for the summer.",
    "What is the capital of Australia?", "Why is the sky blue?",
    "Can you suggest a name for my new puppy?", "I'm bored, entertain me.",
    "How can I sleep better?", "Tell me a riddle.", "Any tips for a job interview?",
    "What's a good way to start running?", "Cheer me up, please.",
    "What do you know about volcanoes?", "Give me a fun fact.",
)
CONVERSATION_TEMPLATES = (
    "Tell me a joke about {t}.", "Tell me a fun fact about {t}.", "Let's chat about {t}.",
    "Can we talk about {t}?", "What do you think about {t}?", "I'd love some advice on {t}.",
    "Give me some tips on {t}.", "Tell me a story about {t}.", "Do you have an opinion on {t}?",
)
JOKE_TOPICS = ("computers", "cats", "cooking", "the weather", "football", "trains", "coffee",
               "programmers", "the office", "space", "school", "music")
FOREIGN = (
    ("Das Wetter ist heute sehr schoen", "German"), ("Wo ist der Bahnhof", "German"),
    ("Ich habe meinen Schluessel verloren", "German"), ("Je voudrais un cafe, s'il vous plait",
                                                        "French"),
    ("La reunion commence a dix heures", "French"), ("Merci beaucoup pour votre aide", "French"),
    ("Donde esta la biblioteca", "Spanish"), ("Manana vamos a la playa", "Spanish"),
    ("El tren sale a las nueve", "Spanish"), ("Buongiorno, come stai", "Italian"),
    ("Il museo chiude alle sei", "Italian"), ("Eu gosto muito de musica", "Portuguese"),
    ("Goedemorgen, hoe gaat het", "Dutch"),
)

STYLES = ("a watercolor painting", "a pencil sketch", "a cartoon", "an oil painting",
          "a pop art poster", "a black and white photo")


# ---------------------------------------------------------------- phrase tables

def _quote(rng: random.Random, text: str) -> str:
    if "'" in text:
        return f'"{text}"'
    return rng.choice(("'{}'", "'{}'", '"{}"')).format(text)


# Tasks on an attached (or generated) resource; {f} is the file or a phrase naming it.
FILE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "image-to-text": (
        "Describe {f}.", "What is in {f}?", "What does {f} show?", "Write a caption for {f}.",
        "Caption {f}.", "Tell me what you see in {f}.", "Read the text in {f}.",
        "What does the sign in {f} say?", "Extract the text from {f}.",
        "Transcribe the handwriting in {f}.", "Give me a description of {f}.",
        "Can you describe {f} for a blind user?", "OCR {f}, please.", "What is written on {f}?",
        "Explain what is happening in {f}.", "I have an image {f}. What does it depict?",
        "Could you generate a caption for {f}?", "What's going on in {f}?",
        "Please describe {f} in one sentence.", "Read out the words in {f} as text.",
    ),
    "object-detection": (
        "Find the faces in {f}.", "Detect the objects in {f}.", "Draw boxes around the people in "
        "{f}.", "Locate every car in {f}.", "Where are the dogs in {f}?",
        "Mark all the objects you can find in {f}.", "How many faces can you detect in {f}?",
        "Spot the bicycles in {f} and box them.", "Run object detection on {f}.",
        "Which objects are in {f}? Box them.", "Find and outline the people in {f} with boxes.",
        "Detect every person and vehicle in {f}.", "Count the cars in {f}.",
        "Count the people in {f} and mark them.", "Put bounding boxes on the animals in {f}.",
    ),
    "image-classification": (
        "What kind of animal is in {f}?", "Classify {f}.", "What category does {f} belong to?",
        "Identify the type of flower in {f}.", "Label {f} with its class.",
        "What breed is the dog in {f}?", "Which class fits {f} best?",
        "Classify the image {f} into a category.", "What sort of bird is in {f}?",
        "Is {f} a picture of food, a landscape or a person? Classify it.",
        "Tell me what kind of object {f} shows.",
    ),
    "image-segmentation": (
        "Segment {f}.", "Split {f} into regions.", "Separate the foreground from the background "
        "in {f}.", "Make a segmentation mask of {f}.", "Outline each object in {f} as its own "
        "region.", "Run image segmentation on {f}.", "Divide {f} into labelled segments.",
    ),
    "depth-estimation": (
        "Estimate the depth in {f}.", "Make a depth map of {f}.", "Create a depth image from {f}.",
        "How far away are the things in {f}? Make a depth map.", "Run depth estimation on {f}.",
        "Show me which parts of {f} are near and which are far.",
    ),
    "automatic-speech-recognition": (
        "Transcribe {f}.", "What is said in {f}?", "Write down what the speaker says in {f}.",
        "Convert {f} to text.", "Give me a transcript of {f}.", "Can you transcribe {f}?",
        "What does the person in {f} say?", "Turn {f} into text.", "Type out {f}.",
        "I recorded a meeting, {f}. Please transcribe it.", "Please transcribe {f} for me.",
        "What are they saying in {f}?", "Run speech recognition on {f}.",
        "Write out the words spoken in {f}.", "Can you convert the audio in {f} into text?",
    ),
    "audio-classification": (
        "What sound is in {f}?", "Classify the audio {f}.", "What kind of noise is in {f}?",
        "Identify the sound in {f}.", "Is {f} music or speech?",
        "What instrument is playing in {f}?", "Which animal makes the sound in {f}?",
        "Label the audio clip {f}.", "What type of audio is {f}?",
    ),
    "audio-to-audio": (
        "Remove the noise from {f}.", "Clean up {f}.", "Enhance the audio quality of {f}.",
        "Separate the voice from the music in {f}.", "Denoise {f}.",
        "Reduce the background hum in {f}.", "Make the speech in {f} clearer.",
        "Filter the background noise out of {f}.",
    ),
}
IMAGE_PHRASES = ("this picture", "the attached image", "this photo", "the image I sent",
                 "my photo", "the attached picture")
AUDIO_PHRASES = ("this recording", "the attached audio", "this audio file", "the voice message",
                 "the recording I sent", "this clip")
TEXT_FILE_PHRASES = ("the attached text", "this document", "the attached file", "my notes")

# Text tasks with inline text. "colon": the instruction ends with a colon and the text follows at
# the end of the request. "quote": {t} is the quoted text. "free": {t} is plain, valid only when
# the request has no colon or quote. "whole": the text argument is the whole request.
TEXT_TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "text-to-speech": {
        "colon": ("Read this aloud:", "Say this out loud:", "Convert this text to speech:",
                  "Please speak the following:", "Generate speech for this:",
                  "Turn this into audio:", "Make an audio recording of this sentence:",
                  "Read the following out loud:", "Text to speech:", "Can you say this for me:"),
        "quote": ("Say {t}.", "Read {t} aloud.", "Pronounce {t} for me.",
                  "Turn the sentence {t} into speech.", "Generate an audio clip that says {t}.",
                  "Can you say {t} out loud?", "Please read {t} aloud.",
                  "Make a voice recording of {t}.", "Convert {t} to speech."),
    },
    "translation": {
        "colon": ("Translate this into {lang}:", "Translate to {lang}:",
                  "Please translate the following sentence into {lang}:",
                  "How would you say this in {lang}:", "Put this into {lang}:",
                  "Translate the following text to {lang}:", "{lang} translation please:"),
        "quote": ("Translate {t} into {lang}.", "How do you say {t} in {lang}?",
                  "What is {t} in {lang}?", "Can you put {t} into {lang}?",
                  "Translate {t} to {lang}, please.", "What's the {lang} for {t}?"),
    },
    "summarization": {
        "colon": ("Summarize this:", "Give me a short summary of the following:",
                  "Sum up this text in a few words:", "Summarize the following article:",
                  "Shorten this to its main points:", "TL;DR:",
                  "Can you summarise this paragraph:", "Give me the gist of this:"),
        "quote": ("Summarize {t}.", "Give me a one-line summary of {t}."),
    },
    "token-classification": {
        "colon": ("Find the named entities in this sentence:",
                  "List the people, places and organisations in:", "Tag the entities:",
                  "Extract the names from this text:", "Which people and places are mentioned "
                  "here:", "Highlight the dates and locations in:", "Run NER on this:"),
        "quote": ("Tag the named entities in {t}.", "Who and where is mentioned in {t}?",
                  "Find the names of people and places in {t}.",
                  "Extract the entities from {t}."),
    },
    "text-classification": {
        "colon": ("Is this review positive or negative:", "What's the sentiment of this:",
                  "Classify the sentiment:", "Tell me if this comment is positive or negative:",
                  "Rate the mood of this message:", "Sentiment analysis, please:"),
        "quote": ("What is the sentiment of {t}?", "Is {t} positive or negative?",
                  "Classify the sentiment of {t}.", "Does {t} sound happy or angry?"),
    },
    "text2text-generation": {
        "colon": ("Fix the grammar of:", "Correct this sentence:", "Paraphrase this:",
                  "Rewrite this more formally:", "Rephrase:", "Correct the spelling here:"),
        "quote": ("Paraphrase {t}.", "Correct the grammar in {t}.", "Rewrite {t} politely."),
    },
    "fill-mask": {
        "colon": ("Fill in the gap:", "What word goes in the [MASK] slot here:",
                  "Complete the missing word:", "Fill the mask:"),
        "quote": ("Fill in the blank in {t}.", "Which word fits the gap in {t}?"),
    },
    "feature-extraction": {
        "colon": ("Turn this sentence into a vector:", "Compute sentence features for:",
                  "Get the embedding of this text:"),
        "quote": ("Get the embedding of {t}.", "Extract features from {t}.",
                  "Compute an embedding vector for {t}."),
    },
    "text-to-image": {
        "colon": ("Generate an image from this description:", "Text to image:",
                  "Draw this:", "Create a picture of the following:"),
        "quote": ("Draw {t}.", "Generate an image of {t}.", "Make a picture of {t}."),
        "free": ("Draw {t}.", "Draw a picture of {t}.", "Generate an image of {t}.",
                 "Create a picture showing {t}.", "Paint {t}.", "Make an illustration of {t}.",
                 "Can you draw {t}?", "I'd like an image of {t}.", "Sketch {t} for me."),
    },
}
FILE_TEXT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "text-to-speech": ("Read {f} aloud.", "Convert {f} to speech.", "Turn {f} into audio.",
                       "Make an audio version of {f}."),
    "translation": ("Translate {f} into {lang}.", "Put {f} into {lang}, please."),
    "summarization": ("Summarize {f}.", "Give me the gist of {f}.",
                      "Shorten {f} to its main points.", "What are the key points of {f}?"),
    "token-classification": ("Who is mentioned in {f}?", "Extract the names of people from {f}.",
                             "Find the places and organisations in {f}."),
    "text-classification": ("Is the review in {f} positive or negative?",
                            "What's the overall sentiment of {f}?"),
    "text2text-generation": ("Fix the grammar in {f}.", "Paraphrase {f}."),
    "text-to-image": ("Draw a picture based on {f}.", "Illustrate {f}."),
    "feature-extraction": ("Compute an embedding of {f}.",),
    "text-generation": ("Continue the story in {f}.", "Write a reply to {f}."),
}

# Steps that act on the previous task's output; {it} names that output.
STEP_TEMPLATES: dict[str, tuple[str, ...]] = {
    "text-to-speech": ("read {it} aloud", "read {it} out loud", "say {it} out loud",
                       "turn {it} into speech", "convert {it} to audio",
                       "make an audio version of {it}", "speak {it}"),
    "translation": ("translate {it} into {lang}", "translate {it} to {lang}",
                    "put {it} into {lang}"),
    "summarization": ("summarize {it}", "give me a short summary of {it}", "condense {it}",
                      "sum {it} up"),
    "token-classification": ("find the names in {it}", "extract the named entities from {it}",
                             "list the people and places in {it}", "tag the entities in {it}"),
    "text-classification": ("tell me if {it} is positive or negative",
                            "classify the sentiment of {it}", "analyse the sentiment of {it}"),
    "text-generation": ("write a reply to {it}", "write a short poem based on {it}",
                        "continue {it} as a story"),
    "text2text-generation": ("rewrite {it} more formally", "fix the grammar of {it}",
                             "paraphrase {it}"),
    "text-to-image": ("draw a picture of {it}", "generate an image from {it}", "illustrate {it}",
                      "make an image based on {it}"),
    "feature-extraction": ("compute an embedding of {it}", "turn {it} into a vector"),
    "automatic-speech-recognition": ("transcribe {it}", "write down what {it} says",
                                     "convert {it} back to text", "check {it} by transcribing it"),
    "audio-classification": ("classify {it}", "tell me what kind of sound {it} is"),
    "audio-to-audio": ("clean up {it}", "remove the noise from {it}", "enhance {it}"),
    "image-to-text": ("describe {it}", "caption {it}", "tell me what {it} shows",
                      "read the text in {it}"),
    "object-detection": ("detect the objects in {it}", "find the faces in {it}",
                         "box the objects in {it}"),
    "image-classification": ("classify {it}", "tell me what category {it} belongs to"),
    "image-segmentation": ("segment {it}", "split {it} into regions"),
    "depth-estimation": ("estimate the depth of {it}", "make a depth map of {it}"),
}
NOUNS: dict[str, tuple[str, ...]] = {
    "automatic-speech-recognition": ("the transcript", "the transcription", "it", "the text"),
    "image-to-text": ("the description", "the caption", "it", "the text", "the result"),
    "translation": ("the translation", "it", "the translated text"),
    "summarization": ("the summary", "it"),
    "text-generation": ("the text", "it", "the result"),
    "conversational": ("the reply", "it"),
    "text2text-generation": ("the corrected text", "it", "the result"),
    "question-answering": ("the answer", "it"),
    "visual-question-answering": ("the answer", "it"),
    "document-question-answering": ("the answer", "it"),
    "text-to-speech": ("the audio", "the recording", "it", "the speech"),
    "audio-to-audio": ("the cleaned audio", "it", "the result"),
    "text-to-image": ("the picture", "the image", "it"),
    "image-to-image": ("the new image", "the edited picture", "it"),
    "object-detection": ("the annotated image", "the result", "it"),
    "image-segmentation": ("the result", "it"),
    "depth-estimation": ("the depth map", "it"),
    "token-classification": ("the entities", "the result"),
    "text-classification": ("the label", "the result"),
    "image-classification": ("the label", "the result"),
    "audio-classification": ("the label", "the result"),
    "zero-shot-classification": ("the label", "the result"),
    "sentence-similarity": ("the score", "the result"),
    "fill-mask": ("the completed sentence", "it"),
    "feature-extraction": ("the vector", "it"),
}
# Natural chains: what commonly follows a task's output, with weights.
FOLLOWERS: dict[str, tuple[tuple[str, float], ...]] = {
    "automatic-speech-recognition": (("summarization", 3), ("translation", 3),
                                     ("token-classification", 2), ("text-classification", 2),
                                     ("text-to-speech", 1), ("text-generation", 0.5),
                                     ("text-to-image", 0.5), ("text2text-generation", 0.5)),
    "image-to-text": (("text-to-speech", 4), ("translation", 3), ("summarization", 1),
                      ("token-classification", 1), ("text-classification", 1),
                      ("text-to-image", 1)),
    "translation": (("text-to-speech", 4), ("summarization", 1), ("text-classification", 1),
                    ("token-classification", 1)),
    "summarization": (("text-to-speech", 4), ("translation", 3), ("text-to-image", 0.5)),
    "text-generation": (("text-to-speech", 3), ("translation", 2), ("text-to-image", 1)),
    "text2text-generation": (("text-to-speech", 2), ("translation", 1)),
    "text-to-speech": (("automatic-speech-recognition", 3), ("audio-classification", 1),
                       ("audio-to-audio", 1)),
    "audio-to-audio": (("automatic-speech-recognition", 3), ("audio-classification", 1)),
    "text-to-image": (("image-to-text", 3), ("object-detection", 2),
                      ("image-classification", 1), ("image-segmentation", 1),
                      ("depth-estimation", 1)),
    "object-detection": (("image-to-text", 1),),
    "image-classification": (("text-to-speech", 1), ("translation", 1)),
    "visual-question-answering": (("text-to-speech", 2), ("translation", 1)),
    "document-question-answering": (("text-to-speech", 1), ("translation", 1)),
    "question-answering": (("text-to-speech", 1),),
    "conversational": (("text-to-speech", 1),),
    "token-classification": (),
    "text-classification": (),
}
CONNECTORS = (", then ", " and then ", ", and then ", " and ", ". Then ", ", after that ",
              " and afterwards ")
FINAL_CONNECTORS = (", and finally ", " and then ", ", then ", " and ")


# ---------------------------------------------------------------- helpers


def span_is_reachable(request: str, span: str) -> bool:
    """Whether the live decoder can copy ``span`` from ``request`` (a character-level version of
    ``core.planner.span_starts``: the request's start, after a colon or an opening quote, or
    anywhere if the request has no such mark)."""
    if span == request:
        return True
    starts = []
    for match in re.finditer(re.escape(span), request):
        starts.append(match.start())
    if not starts:
        return False
    if not any(m in request for m in QUOTE_MARKS):
        return True
    for start in starts:
        before = request[:start].rstrip()
        if start == 0 or (before and before[-1] in QUOTE_MARKS):
            return True
    return False


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[1].isupper():
        return text  # an acronym ("OCR", "TL;DR")
    return text[:1].lower() + text[1:]


def _strip_end(text: str) -> str:
    return text.rstrip(".?! ")


class _Files:
    """Draws distinct file names of each kind."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def _draw(self, stems: tuple[str, ...], exts: tuple[str, ...]) -> str:
        for _ in range(50):
            stem = self.rng.choice(stems)
            if self.rng.random() < 0.15:
                stem = f"{stem}{self.rng.randint(1, 99)}"
            name = stem + self.rng.choice(exts)
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("ran out of file names")

    def image(self, document: bool = False) -> str:
        return self._draw(DOC_STEMS if document else IMAGE_STEMS, IMAGE_EXTS)

    def audio(self) -> str:
        return self._draw(AUDIO_STEMS, AUDIO_EXTS)

    def text(self) -> str:
        return self._draw(TEXT_STEMS, TEXT_EXTS)


def _node(task: str, args: dict[str, str], dep: list[int] | None = None) -> dict[str, Any]:
    return {"task": task, "id": 0, "dep": dep or [-1], "args": args}


def _finish(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for index, node in enumerate(nodes):
        node["id"] = index
        refs = sorted({int(m) for v in node["args"].values()
                       for m in re.findall(r"<GENERATED>-(\d+)", str(v))})
        node["dep"] = refs or [-1]
    return nodes


# ---------------------------------------------------------------- clause builders


@dataclass
class Clause:
    """A piece of a request: its words, the task node, and text that goes after a final colon."""

    text: str
    node: dict[str, Any]
    tail: str = ""  # inline text placed after a colon at the end of the request


def _text_content(rng: random.Random, task: str) -> str:
    if task == "summarization":
        return rng.choice(PARAGRAPHS)
    if task == "token-classification":
        return rng.choice(NER_SENTENCES) + rng.choice((".", "", "."))
    if task == "text-classification":
        return rng.choice(REVIEWS) + rng.choice((".", "", "!"))
    if task == "text2text-generation":
        return rng.choice(BAD_GRAMMAR)
    if task == "fill-mask":
        return rng.choice(MASKED)
    if task == "text-to-image":
        return rng.choice(IMAGE_DESCRIPTIONS)
    sentence = rng.choice(SENTENCES)
    if rng.random() < 0.5:
        sentence = _cap(sentence)
    return sentence + rng.choice(("", ".", ".", "!", "?") if sentence.startswith(
        ("where", "how", "can", "Where", "How", "Can")) else ("", ".", "."))


def _lang(rng: random.Random) -> str:
    return rng.choice(LANGUAGES)


def text_clause(rng: random.Random, task: str, style: str | None = None) -> Clause:
    """A first clause for a text task given inline text."""
    table = TEXT_TEMPLATES[task]
    if style not in table:
        style = rng.choices(list(table), [2.0 if s == "free" else 1.0 for s in table])[0]
    template = rng.choice(table[style])
    content = _text_content(rng, task)
    if task == "text-to-speech" and rng.random() < 0.15:
        content = rng.choice(PARAGRAPHS[:6]).split(". ")[0] + "."
    lang = _lang(rng)
    if style == "colon":
        text = template.format(lang=lang)
        return Clause(text, _node(task, {"text": content}), tail=content)
    if style == "quote":
        content = content.rstrip(".!") if rng.random() < 0.7 else content
        text = template.format(t=_quote(rng, content), lang=lang)
        return Clause(text, _node(task, {"text": content}))
    text = template.format(t=content, lang=lang)
    return Clause(text, _node(task, {"text": content}))


def file_clause(rng: random.Random, task: str, name: str, named: bool = True) -> Clause:
    """A first clause for a task on an attached file (image, audio or text)."""
    kind = kind_of_file(name)
    if kind == TEXT:
        template = rng.choice(FILE_TEXT_TEMPLATES[task])
        shown = name if named else rng.choice(TEXT_FILE_PHRASES)
        return Clause(template.format(f=shown, lang=_lang(rng)), _node(task, {"text": name}))
    if task in ("visual-question-answering", "document-question-answering"):
        return _vqa_clause(rng, task, name, named)
    if task == "image-to-image":
        return _edit_clause(rng, name, named)
    template = rng.choice(FILE_TEMPLATES[task])
    phrases = IMAGE_PHRASES if kind == IMAGE else AUDIO_PHRASES
    if named:
        shown = name
        if rng.random() < 0.12:
            shown = _quote(rng, name)
        elif rng.random() < 0.25:
            noun = rng.choice(("the photo", "the picture", "the image") if kind == IMAGE else
                              ("the recording", "the audio", "the file"))
            shown = f"{noun} {name}"
    else:
        shown = rng.choice(phrases)
    key = "image" if kind == IMAGE else "audio"
    return Clause(template.format(f=shown), _node(task, {key: name}))


def _vqa_clause(rng: random.Random, task: str, name: str, named: bool) -> Clause:
    question = rng.choice(QUESTIONS_IMAGE if task == "visual-question-answering"
                          else QUESTIONS_DOC)
    shown = name if named else rng.choice(("this picture", "the attached image", "this photo")
                                          if task == "visual-question-answering" else
                                          ("this document", "the attached scan", "this page"))
    form = rng.randrange(6)
    if form == 4:
        arg = question
        text = f"In {shown}, {question}"
    elif form == 5:
        arg = _cap(question)
        text = f"{rng.choice(('Quick question about', 'Question about', 'Regarding'))} " \
               f"{shown}: {arg}"
    elif form == 0:
        text = f"Look at {shown}: {question}"
        arg = question
    elif form == 1:
        arg = _cap(question)
        text = f"About {shown}: {arg}"
    elif form == 2:
        arg = _cap(question)
        text = f"{arg[:-1]} in {shown}?" if task == "visual-question-answering" else \
            f"{arg[:-1]} on {shown}?"
        arg = text
    else:
        arg = question
        text = f"Answer this question about {shown}: {question}"
    return Clause(text, _node(task, {"image": name, "text": arg}))


def _edit_clause(rng: random.Random, name: str, named: bool) -> Clause:
    shown = name if named else rng.choice(("this picture", "this photo", "the attached image"))
    if rng.random() < 0.5:
        instruction = rng.choice(EDIT_INSTRUCTIONS)
        text = f"{rng.choice(('Edit', 'Change', 'Modify'))} {shown}: {instruction}"
        return Clause(text, _node("image-to-image", {"image": name, "text": instruction}))
    style = rng.choice(STYLES)
    text = rng.choice(("Make {f} look like {s}.", "Turn {f} into {s}.",
                       "Restyle {f} as {s}.")).format(f=shown, s=style)
    return Clause(text, _node("image-to-image", {"image": name, "text": text}))


def step_clause(rng: random.Random, task: str, source_task: str, ref: int) -> Clause:
    """A clause for a task applied to the output of task ``ref``."""
    noun = rng.choice(NOUNS.get(source_task, ("it", "the result")))
    template = rng.choice(STEP_TEMPLATES[task])
    text = template.format(it=noun, lang=_lang(rng))
    kind = TEXT if task in _TEXT_IN else (AUDIO if task in _AUDIO_IN else IMAGE)
    key = {TEXT: "text", AUDIO: "audio", IMAGE: "image"}[kind]
    return Clause(text, _node(task, {key: f"<GENERATED>-{ref}"}))


_TEXT_IN = {t for t in TASK_NAMES if get_task(t).inputs[0][1] == TEXT}
_AUDIO_IN = {t for t in TASK_NAMES if get_task(t).inputs[0][1] == AUDIO}


# ---------------------------------------------------------------- sample builders


SINGLE_WEIGHTS: dict[str, float] = {
    "image-to-text": 10, "automatic-speech-recognition": 10, "text-to-speech": 10,
    "translation": 7, "summarization": 6, "token-classification": 5, "object-detection": 5,
    "image-classification": 4, "text-classification": 5, "visual-question-answering": 4,
    "document-question-answering": 2, "text-to-image": 3, "image-to-image": 2,
    "image-segmentation": 2, "depth-estimation": 2, "audio-classification": 2,
    "audio-to-audio": 2, "zero-shot-classification": 3, "question-answering": 2,
    "text-generation": 3, "conversational": 5, "text2text-generation": 2, "fill-mask": 1.5,
    "sentence-similarity": 2, "feature-extraction": 1,
}


def weighted(rng: random.Random, pairs: dict[Any, float] | Sequence[tuple[Any, float]]) -> Any:
    """One key of ``pairs`` (a dict or (key, weight) pairs), drawn by weight."""
    items = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
    return rng.choices([k for k, _ in items], [w for _, w in items])[0]


def _first_clause(rng: random.Random, task: str, files: _Files, attached: list[str]) -> Clause:
    """Any task as the first clause of a request: on a new file or on inline text."""
    inputs = get_task(task).inputs
    kind = inputs[0][1]
    named = rng.random() < 0.8
    if kind == IMAGE:
        document = task == "document-question-answering" or (
            task == "image-to-text" and rng.random() < 0.2)
        name = files.image(document)
        attached.append(name)
        return file_clause(rng, task, name, named)
    if kind == AUDIO:
        name = files.audio()
        attached.append(name)
        return file_clause(rng, task, name, named)
    if task in FILE_TEXT_TEMPLATES and rng.random() < 0.12:
        name = files.text()
        attached.append(name)
        return file_clause(rng, task, name, rng.random() < 0.85)
    special = _special_text_clause(rng, task)
    if special is not None:
        return special
    return text_clause(rng, task)


def _special_text_clause(rng: random.Random, task: str) -> Clause | None:
    """Text tasks whose wording does not fit the colon/quote tables."""
    if task == "text-generation":
        if rng.random() < 0.35:
            start = rng.choice(STORY_STARTS)
            prefix = rng.choice(("Continue this story:", "Finish this sentence:",
                                 "Write what happens next:"))
            return Clause(prefix, _node(task, {"text": start}), tail=start)
        if rng.random() < 0.3:
            text = f"Write an email {rng.choice(EMAIL_PURPOSES)}."
        else:
            text = rng.choice(("Write {k} about {t}.", "Compose {k} about {t}.",
                               "Can you write {k} about {t}?")).format(
                k=rng.choice(WRITING_KINDS), t=rng.choice(WRITING_TOPICS))
        return Clause(text, _node(task, {"text": text}))
    if task == "conversational":
        if rng.random() < 0.4:
            text = rng.choice(CONVERSATION)
        else:
            text = rng.choice(CONVERSATION_TEMPLATES).format(
                t=rng.choice(CHAT_TOPICS + JOKE_TOPICS))
        return Clause(text, _node(task, {"text": text}))
    if task == "translation" and rng.random() < 0.25:  # foreign text into English
        content, language = rng.choice(FOREIGN)
        form = rng.randrange(4)
        if form == 0:
            text = f"Translate {_quote(rng, content)} into English."
        elif form == 1:
            text = f"What does {_quote(rng, content)} mean in English?"
        elif form == 2:
            text = f"This is {language}, please translate it to English: {content}"
            return Clause(text.split(": ")[0] + ":", _node(task, {"text": content}), tail=content)
        else:
            text = f"Is {_quote(rng, content)} {language}? Translate it to English."
        return Clause(text, _node(task, {"text": content}))
    if task == "zero-shot-classification":
        content = rng.choice(ZS_TEXTS)
        labels = rng.choice(LABEL_SETS)
        listed = ", ".join(labels[:-1]) + " or " + labels[-1]
        form = rng.randrange(5)
        if form == 0:
            text = f"Classify {_quote(rng, content)} as {listed}."
        elif form == 1:
            text = f"Is {_quote(rng, content)} about {listed}?"
        elif form == 3:
            text = f"Which of these labels fits {_quote(rng, content)}: {', '.join(labels)}?"
        elif form == 4:
            text = f"Which topic ({', '.join(labels)}) does {_quote(rng, content)} belong to?"
        else:
            text = f"Put this message into one of these categories ({', '.join(labels)}):"
            return Clause(text, _node(task, {"text": content, "labels": ", ".join(labels)}),
                          tail=content)
        return Clause(text, _node(task, {"text": content, "labels": ", ".join(labels)}))
    if task == "question-answering":
        context, question = rng.choice(QA_PAIRS)
        form = rng.randrange(3)
        if form == 0:
            text = f"Passage: {context} Question: {question}"
        elif form == 1:
            text = f"Based on this text, answer the question. Text: {context} " \
                   f"Question: {question}"
        else:
            text = f"Answer from the context. Context: {context} Question: {question}"
        return Clause(text, _node(task, {"text": question, "context": context}))
    if task == "sentence-similarity":
        a, b = rng.choice(SIMILAR_PAIRS)
        qa, qb = _quote(rng, a), _quote(rng, b)
        text = rng.choice(("How similar are {a} and {b}?", "Do {a} and {b} mean the same thing?",
                           "Compare the meaning of {a} with {b}.",
                           "Give me a similarity score for {a} and {b}.")).format(a=qa, b=qb)
        return Clause(text, _node(task, {"text": a, "text2": b}))
    return None


def _join(clauses: list[str], rng: random.Random) -> str:
    if len(clauses) == 1:
        return _cap(clauses[0])
    text = _strip_end(clauses[0])
    for position, clause in enumerate(clauses[1:], start=1):
        last = position == len(clauses) - 1
        connector = rng.choice(FINAL_CONNECTORS if last and len(clauses) > 2 else CONNECTORS)
        text += connector + _lower_first(_strip_end(clause))
    if len(clauses) > 2 and rng.random() < 0.3:
        text = "First " + _lower_first(text)
    return _cap(text)


def _compose(rng: random.Random, clauses: list[Clause]) -> str:
    """Join clauses; a clause with a tail keeps its colon and the tail ends the request."""
    tails = [c for c in clauses if c.tail]
    words = [c.text.rstrip(":") if c.tail else c.text for c in clauses]
    text = _join(words, rng)
    if tails:
        text = _strip_end(text) + ": " + tails[0].tail
    elif not text.endswith(("?", ".", "!")):
        text += rng.choice((".", ".", "", "!")) if not text.endswith(")") else "."
    return text


def _anchor_whole(clause: Clause, request: str) -> None:
    """A first clause whose text argument was the whole clause ("Write a poem about the sea.")
    keeps it as the span the request starts with, without the final punctuation."""
    for key, value in clause.node["args"].items():
        if value == clause.text and not request.startswith(value):
            clause.node["args"][key] = _strip_end(value)


def single(rng: random.Random) -> Sample:
    files = _Files(rng)
    attached: list[str] = []
    task = weighted(rng, SINGLE_WEIGHTS)
    clause = _first_clause(rng, task, files, attached)
    request = clause.text + (" " + clause.tail if clause.tail else "")
    return Sample(_polish(request), attached, _finish([clause.node]), shape="single")


def chain(rng: random.Random, length: int) -> Sample | None:
    files = _Files(rng)
    attached: list[str] = []
    starts = {"automatic-speech-recognition": 8, "image-to-text": 8, "translation": 3,
              "summarization": 3, "text-to-image": 3, "text-to-speech": 3,
              "text-generation": 1.5, "audio-to-audio": 1, "object-detection": 1,
              "visual-question-answering": 1, "document-question-answering": 0.5,
              "image-classification": 0.5, "text2text-generation": 0.5, "conversational": 0.3}
    first = weighted(rng, starts)
    clauses = [_first_clause(rng, first, files, attached)]
    tasks = [first]
    for _ in range(length - 1):
        options = [(t, w) for t, w in FOLLOWERS.get(tasks[-1], ()) if t not in tasks]
        if not options:
            break
        follower = weighted(rng, tuple(options))
        clauses.append(step_clause(rng, follower, tasks[-1], len(tasks) - 1))
        tasks.append(follower)
    if len(tasks) < 2:
        return None
    request = _compose(rng, clauses)
    _anchor_whole(clauses[0], request)
    return Sample(_polish(request), attached, _finish([c.node for c in clauses]), shape="chain")


# Requests that name only the last task: the first one is implied by the input's kind.
IMPLICIT: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("automatic-speech-recognition", "summarization", AUDIO,
     ("Summarize {f}.", "Give me the gist of {f}.", "What are the main points of {f}?",
      "Give me a short summary of the recording {f}.")),
    ("automatic-speech-recognition", "translation", AUDIO,
     ("Translate {f} into {lang}.", "What does the speaker in {f} say, in {lang}?",
      "Translate what is said in {f} into {lang}.")),
    ("automatic-speech-recognition", "token-classification", AUDIO,
     ("Which people and places are mentioned in {f}?", "Find the names mentioned in {f}.")),
    ("automatic-speech-recognition", "text-classification", AUDIO,
     ("Is the caller in {f} happy or upset?", "What is the sentiment of what is said in {f}?",
      "Does the customer in {f} sound satisfied?")),
    ("image-to-text", "text-to-speech", IMAGE,
     ("Read the sign in {f} out loud.", "Read the text of {f} aloud.",
      "Read the words on {f} out loud.", "Describe {f} out loud.")),
    ("image-to-text", "translation", IMAGE,
     ("Translate the text in {f} into {lang}.", "What does the menu in {f} say in {lang}?",
      "Translate the sign in {f} to {lang}.")),
    ("image-to-text", "summarization", IMAGE,
     ("Summarize the document in {f}.", "Give me a summary of the page in {f}.")),
    ("image-to-text", "token-classification", IMAGE,
     ("Find the names in the scanned letter {f}.", "Which people are named in {f}?")),
    ("image-to-text", "text-classification", IMAGE,
     ("Is the review in the screenshot {f} positive?",
      "What is the sentiment of the text in {f}?")),
)


def implicit_chain(rng: random.Random) -> Sample:
    files = _Files(rng)
    first, second, kind, templates = rng.choice(IMPLICIT)
    name = files.image(document=rng.random() < 0.4) if kind == IMAGE else files.audio()
    request = rng.choice(templates).format(f=name, lang=_lang(rng))
    key = "image" if kind == IMAGE else "audio"
    nodes = [_node(first, {key: name}), _node(second, {"text": "<GENERATED>-0"})]
    return Sample(_polish(request), [name], _finish(nodes), shape="chain")


PARALLEL_SAME_INPUT: tuple[tuple[str, str, str], ...] = (
    (IMAGE, "object-detection", "image-to-text"), (IMAGE, "image-to-text", "image-classification"),
    (IMAGE, "image-segmentation", "depth-estimation"), (IMAGE, "image-to-text", "object-detection"),
    (IMAGE, "image-classification", "object-detection"),
    (IMAGE, "depth-estimation", "object-detection"),
    (AUDIO, "automatic-speech-recognition", "audio-classification"),
    (AUDIO, "audio-classification", "automatic-speech-recognition"),
    (TEXT, "text-to-speech", "text-classification"), (TEXT, "translation", "summarization"),
    (TEXT, "token-classification", "text-classification"),
    (TEXT, "summarization", "token-classification"), (TEXT, "translation", "text-to-speech"),
)


def parallel(rng: random.Random) -> Sample:
    """Two tasks on one input, independent of each other."""
    files = _Files(rng)
    kind, a, b = rng.choice(PARALLEL_SAME_INPUT)
    if kind == TEXT:
        content = rng.choice(SENTENCES + REVIEWS + NER_SENTENCES)
        if rng.random() < 0.3:
            name = files.text()
            attached = [name]
            value = name
            shown = name
        else:
            attached, value, shown = [], content, None
        if shown is None:
            phrase_a = _text_phrase(rng, a, "this")
            phrase_b = _text_phrase(rng, b, "it")
            request = f"{_cap(phrase_a)} and also {phrase_b}: {content}"
        else:
            phrase_a = _text_phrase(rng, a, shown)
            phrase_b = _text_phrase(rng, b, "it")
            request = f"{_cap(phrase_a)} and also {phrase_b}."
        nodes = [_node(a, {"text": value}), _node(b, {"text": value})]
        return Sample(_polish(request), attached, _finish(nodes), shape="parallel")
    name = files.image() if kind == IMAGE else files.audio()
    key = "image" if kind == IMAGE else "audio"
    one = _strip_end(rng.choice(FILE_TEMPLATES[a]).format(f=name))
    seconds = [t for t in FILE_TEMPLATES[b] if not t.startswith("I ")]
    two = rng.choice(seconds).format(f=rng.choice(("it", "the same file", "it")))
    joiner = rng.choice((" and also ", ", and ", ". Also ", " and "))
    two = _cap(_strip_end(two)) if joiner.startswith(".") else _lower_first(_strip_end(two))
    request = one + joiner + two + "."
    nodes = [_node(a, {key: name}), _node(b, {key: name})]
    return Sample(_polish(request), [name], _finish(nodes), shape="parallel")


def _text_phrase(rng: random.Random, task: str, target: str) -> str:
    template = rng.choice({
        "text-to-speech": ("read {x} aloud", "say {x} out loud", "turn {x} into speech"),
        "text-classification": ("tell me the sentiment of {x}", "classify the mood of {x}"),
        "translation": ("translate {x} into {lang}", "give me a {lang} translation of {x}"),
        "summarization": ("summarize {x}", "shorten {x}"),
        "token-classification": ("find the names in {x}", "tag the entities in {x}"),
    }[task])
    return template.format(x=target, lang=_lang(rng))


BOTH = (("image-classification", "object-detection"), ("image-to-text", "image-classification"),
        ("image-to-text", "object-detection"),
        ("automatic-speech-recognition", "audio-classification"))


def parallel_then_each(rng: random.Random) -> Sample:
    """Two tasks on one file, then the same follow-up on each result ("... and read both
    results aloud")."""
    files = _Files(rng)
    a, b = rng.choice(BOTH)
    kind = get_task(a).inputs[0][1]
    name = files.image() if kind == IMAGE else files.audio()
    key = "image" if kind == IMAGE else "audio"
    after = weighted(rng, (("text-to-speech", 3), ("translation", 1)))
    one = _strip_end(rng.choice([t for t in FILE_TEMPLATES[a] if t.startswith(
        ("Describe", "Caption", "Classify", "Detect", "Transcribe", "Find", "Identify"))]
        or FILE_TEMPLATES[a]).format(f=name))
    two = _lower_first(_strip_end(rng.choice(STEP_TEMPLATES[b]).format(it="it", lang="")))
    tail = rng.choice(("read both results aloud", "read both answers out loud",
                       "say both results out loud") if after == "text-to-speech" else
                      (f"translate both results into {_lang(rng)}",))
    request = f"{one}, {two} and {tail}."
    nodes = [_node(a, {key: name}), _node(b, {key: name}),
             _node(after, {"text": "<GENERATED>-0"}), _node(after, {"text": "<GENERATED>-1"})]
    return Sample(_polish(request), [name], _finish(nodes), shape="dag")


def same_task_two_files(rng: random.Random) -> Sample:
    files = _Files(rng)
    task = weighted(rng, {"automatic-speech-recognition": 3, "image-to-text": 3,
                           "object-detection": 1, "image-classification": 1,
                           "audio-classification": 0.5, "depth-estimation": 0.3})
    kind = get_task(task).inputs[0][1]
    count = rng.choice((2, 2, 3))
    names = [files.image() if kind == IMAGE else files.audio() for _ in range(count)]
    listed = ", ".join(names[:-1]) + " and " + names[-1]
    template = rng.choice(FILE_TEMPLATES[task])
    request = template.format(f=listed)
    if rng.random() < 0.3:
        request = _strip_end(request) + rng.choice((", both of them.", ", please.", "."))
    key = "image" if kind == IMAGE else "audio"
    nodes = [_node(task, {key: n}) for n in names]
    return Sample(_polish(request), names, _finish(nodes), shape="parallel")


def fan_out(rng: random.Random) -> Sample:
    """One task whose output feeds two others."""
    files = _Files(rng)
    first = rng.choice(("automatic-speech-recognition", "image-to-text", "summarization",
                        "text-to-image"))
    attached: list[str] = []
    clause = _first_clause(rng, first, files, attached)
    options = [t for t, _ in FOLLOWERS[first]]
    a, b = rng.sample(options, 2)
    noun = rng.choice(NOUNS[first])
    step_a = rng.choice(STEP_TEMPLATES[a]).format(it=noun, lang=_lang(rng))
    step_b = rng.choice(STEP_TEMPLATES[b]).format(it=rng.choice(("it", noun)), lang=_lang(rng))
    head = _strip_end(clause.text.rstrip(":"))
    body = f"{head}, then {_lower_first(step_a)} and also {_lower_first(step_b)}"
    request = body + (": " + clause.tail if clause.tail else ".")
    _anchor_whole(clause, request)
    kind_key = {t: ("audio" if t in _AUDIO_IN else "image" if t not in _TEXT_IN else "text")
                for t in (a, b)}
    nodes = [clause.node, _node(a, {kind_key[a]: "<GENERATED>-0"}),
             _node(b, {kind_key[b]: "<GENERATED>-0"})]
    return Sample(_polish(request), attached, _finish(nodes), shape="dag")


def fan_in(rng: random.Random) -> Sample | None:
    """Tasks whose outputs meet in a task with two inputs, or a text step that feeds a
    question about an image."""
    files = _Files(rng)
    form = rng.randrange(5)
    if form == 0:
        a, b = files.audio(), files.audio()
        request = rng.choice(("Transcribe {a} and {b} and tell me how similar they are.",
                              "Do {a} and {b} say the same thing? Compare their transcripts.",
                              "Transcribe {a} and {b}, then compare the two texts.")).format(
            a=a, b=b)
        nodes = [_node("automatic-speech-recognition", {"audio": a}),
                 _node("automatic-speech-recognition", {"audio": b}),
                 _node("sentence-similarity", {"text": "<GENERATED>-0",
                                               "text2": "<GENERATED>-1"})]
        return Sample(_polish(request), [a, b], _finish(nodes), shape="dag")
    if form == 1:
        a, b = files.image(), files.image()
        request = rng.choice(("Caption {a} and {b} and tell me how similar the captions are.",
                              "Describe {a} and {b}, then compare the two descriptions.")).format(
            a=a, b=b)
        nodes = [_node("image-to-text", {"image": a}), _node("image-to-text", {"image": b}),
                 _node("sentence-similarity", {"text": "<GENERATED>-0",
                                               "text2": "<GENERATED>-1"})]
        return Sample(_polish(request), [a, b], _finish(nodes), shape="dag")
    if form == 2:
        audio, image = files.audio(), files.image()
        request = rng.choice((
            "Transcribe the question in {a} and answer it about {i}.",
            "{a} asks something about {i}; transcribe it and answer the question from the "
            "picture.", "Listen to {a} and use the spoken question to ask about {i}.")).format(
            a=audio, i=image)
        nodes = [_node("automatic-speech-recognition", {"audio": audio}),
                 _node("visual-question-answering", {"image": image, "text": "<GENERATED>-0"})]
        return Sample(_polish(_cap(request)), [audio, image], _finish(nodes), shape="dag")
    if form == 3:
        source = rng.choice(("image", "audio"))
        question = rng.choice(QUESTIONS_TEXT)
        if source == "image":
            name = files.image(document=True)
            request = rng.choice(("Read {f} and answer this: {q}",
                                  "Extract the text of {f}, then answer: {q}")).format(
                f=name, q=question)
            first = _node("image-to-text", {"image": name})
        else:
            name = files.audio()
            request = rng.choice(("Transcribe {f} and then answer: {q}",
                                  "Listen to {f} and answer this question: {q}")).format(
                f=name, q=question)
            first = _node("automatic-speech-recognition", {"audio": name})
        nodes = [first, _node("question-answering", {"text": question,
                                                     "context": "<GENERATED>-0"})]
        return Sample(_polish(request), [name], _finish(nodes), shape="dag")
    description = rng.choice(IMAGE_DESCRIPTIONS)
    question = rng.choice(QUESTIONS_IMAGE)
    request = f"Draw {description}, then answer this about the picture: {question}"
    nodes = [_node("text-to-image", {"text": description}),
             _node("visual-question-answering", {"image": "<GENERATED>-0", "text": question})]
    return Sample(_polish(request), [], _finish(nodes), shape="dag")


FOLLOW_UPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("text-to-speech", ("Now read it aloud.", "Read that out loud.", "Say it out loud, please.",
                        "Can you turn that into speech?", "Now make an audio version of it.")),
    ("translation", ("Translate that into {lang}.", "Now translate it to {lang}.",
                     "Can you give me that in {lang}?", "And in {lang}?")),
    ("summarization", ("Summarize the previous answer.", "Make it shorter.", "Summarize that.",
                       "Can you give me the gist of it?")),
    ("token-classification", ("Which names appear in it?", "Find the people and places in that.",
                              "Extract the entities from the previous result.")),
    ("text-classification", ("Is that positive or negative?",
                             "What is the sentiment of that text?")),
    ("text-to-image", ("Draw a picture of that.", "Now make an image from it.")),
    ("text2text-generation", ("Rewrite that more formally.", "Paraphrase it.")),
)
EARLIER = (
    ("Transcribe meeting.wav", "Here is the transcript: we agreed to ship the release on Friday."),
    ("Describe photo.jpg", "The picture shows two children playing football in a park."),
    ("Summarize this: The council approved a new park next to the school.",
     "The council approved a new park."),
    ("Read the sign in sign.png", "The sign says: no parking after six pm."),
    ("Translate 'good luck with the exam' into German", "Viel Glueck bei der Pruefung."),
    ("What is said in voicemail.mp3?", "The caller says the package will arrive tomorrow."),
)


def follow_up(rng: random.Random) -> Sample:
    history = [rng.choice(EARLIER)] if rng.random() < 0.6 else []
    form = rng.random()
    if form < 0.7:
        task, templates = rng.choice(FOLLOW_UPS)
        request = rng.choice(templates).format(lang=_lang(rng))
        nodes = [_node(task, {"text": PREVIOUS})]
        files = [PREVIOUS]
    elif form < 0.85:
        lang = _lang(rng)
        request = rng.choice(("Translate it into {l} and read the translation aloud.",
                              "Now put that into {l} and say it out loud.")).format(l=lang)
        nodes = [_node("translation", {"text": PREVIOUS}),
                 _node("text-to-speech", {"text": "<GENERATED>-0"})]
        files = [PREVIOUS]
    else:
        artifact = rng.choice(("speech-1.wav", "speech.wav", "speech-2.wav", "image-1.png",
                               "photo-faces.png", "result-1.png"))
        files = [PREVIOUS, artifact] if rng.random() < 0.5 else [artifact]
        if kind_of_file(artifact) == AUDIO:
            request = rng.choice(("Transcribe the recording you just made.",
                                  "Now transcribe that audio.", "What does the audio say?"))
            nodes = [_node("automatic-speech-recognition", {"audio": artifact})]
        else:
            request = rng.choice(("Describe the picture you just made.", "What is in that image?",
                                  "Now caption the new image."))
            nodes = [_node("image-to-text", {"image": artifact})]
    return Sample(request, files, _finish(nodes), history=history, shape="followup")


CHAT_OPENERS = ("Hi!", "Hello!", "Hey there.", "Good morning!", "Thanks!", "OK.", "Great.",
                "Hi,", "Hello,", "Wow,", "Cool,")
CHAT_BODIES = ("how are you?", "who are you?", "what can you do?", "what are you able to do?",
               "thanks for your help.", "that was great.", "nice to meet you.",
               "which tasks do you support?", "do you work without internet?",
               "what's your name?", "that's all for today.", "have a nice day!")


def chit_chat(rng: random.Random) -> Sample:
    files = [PREVIOUS] if rng.random() < 0.25 else []
    history = [rng.choice(EARLIER)] if files and rng.random() < 0.5 else []
    if rng.random() < 0.5:
        request = rng.choice(CHITCHAT)
    else:
        body = rng.choice(CHAT_BODIES)
        opener = rng.choice(CHAT_OPENERS)
        request = f"{opener} {body if opener.endswith(',') else _cap(body)}"
    return Sample(request, files, [], history=history, shape="chat")


def _polish(request: str) -> str:
    request = re.sub(r"\s+", " ", request).strip()
    request = request.replace("..", ".").replace("?.", "?").replace("!.", "!")
    return request


SHAPES: tuple[tuple[str, float], ...] = (
    ("single", 44), ("chain2", 16), ("chain3", 8), ("chain4", 2), ("implicit", 7),
    ("parallel", 4), ("two_files", 3), ("fan_out", 2), ("fan_in", 3), ("followup", 5),
    ("chat", 6), ("both", 1),
)
_BUILDERS: dict[str, Callable[[random.Random], Sample | None]] = {
    "single": single, "chain2": lambda r: chain(r, 2), "chain3": lambda r: chain(r, 3),
    "chain4": lambda r: chain(r, 4), "implicit": implicit_chain, "parallel": parallel,
    "two_files": same_task_two_files, "fan_out": fan_out, "fan_in": fan_in,
    "followup": follow_up, "chat": chit_chat, "both": parallel_then_each,
}


def check(sample: Sample) -> bool:
    """A sample is kept only if its plan validates and every copied text argument can be
    copied by the live decoder."""
    try:
        nodes = validate(parse(sample.plan), sample.files)
    except (ValueError, KeyError):
        return False
    if [n.to_json() for n in nodes] != sample.plan:
        return False
    for node in nodes:
        task = get_task(node.task)
        for key, kind in task.inputs:
            value = str(node.args[key])
            if kind != TEXT or key in FREE_TEXT_KEYS or value.startswith("<GENERATED>"):
                continue
            if value in sample.files:
                continue
            if '"' in value or not span_is_reachable(sample.request, value):
                return False
    for index, node in enumerate(nodes):  # the decoder stops at a repeated task+args
        if any(o.task == node.task and o.args == node.args for o in nodes[:index]):
            return False
    return _deps_feasible(nodes, sample.files)


def _deps_feasible(nodes: list[Any], files: list[str]) -> bool:
    for node in nodes:
        for key, kind in get_task(node.task).inputs:
            value = str(node.args[key])
            match = re.fullmatch(r"<GENERATED>-(\d+)", value)
            if match and not produces(get_task(nodes[int(match.group(1))].task), kind):
                return False
    return True


POLITE = ("Please ", "Could you ", "Can you please ", "Hey, ", "I need you to ",
          "I'd like you to ", "Quick one: ", "Would you ")
CONTEXT = ("I just got back from a trip.", "My colleague sent me this.",
           "I'm preparing a presentation.", "This is for my grandmother.",
           "I have a file here.", "Here is something I need help with.", "Hi!",
           "I'm working on a school project.", "Good morning.")
QUESTION_WORDS = ("What", "How", "Is", "Which", "Who", "Where", "Do", "Does", "Can", "Could",
                  "Are", "Why", "When", "I ", "I'", "Would")


def decorate(rng: random.Random, sample: Sample) -> Sample:
    """The same request with a polite opener or a sentence of context before it."""
    request = sample.request
    if rng.random() < 0.5 and not request.startswith(QUESTION_WORDS):
        opener = rng.choice(POLITE)
        request = opener + _lower_first(request)
        if opener.endswith("you ") and request.endswith("."):
            request = request[:-1] + "?"
    else:
        request = rng.choice(CONTEXT) + " " + request
    return Sample(request, sample.files, sample.plan, sample.history, sample.shape)


# Long, indirect requests ("I've got this audio file named 'x.wav' and I'm having trouble making
# out the words. Could you assist me in ...?"): people write like this, and the adapter first
# trained on short imperatives added steps to them. A sentence about the attached file, an
# indirect ask around the request, a closing remark.
FILE_STORIES = {
    IMAGE: ("I've got an image named '{f}'.", "I have a picture called {f} that I took last week.",
            "There's a photo on my desktop, '{f}', that I keep coming back to.",
            "Sorting my holiday pictures, I came across '{f}'.",
            "I recently snapped a picture with my phone and saved it as {f}."),
    AUDIO: ("I've got this audio file named '{f}'.", "I recorded something and saved it as {f}.",
            "A friend sent me a recording, '{f}', yesterday.",
            "My phone saved a voice memo as '{f}'."),
    TEXT: ("I've got a text file called '{f}'.", "My colleague wrote up {f} for me.",
           "There's a document named '{f}' that I need to deal with."),
}
STORY_OPENERS = ("I'm working on a project and need a hand.", "You know, I have a small problem.",
                 "I'm trying to get organised this week.", "Hey there!",
                 "I've been meaning to ask you something.", "So, here's my situation.")
INDIRECT_ASKS = ("Could you help me {r}?", "Can you assist me? I'd like to {r}.",
                 "I was wondering if you could {r}.", "Would you mind helping me {r}?",
                 "Could you possibly {r} for me?", "I'd love it if you could {r}.")
CLOSERS = ("", "", " Thanks!", " Thanks in advance.", " I'd really appreciate it.",
           " That would help me a lot.")


def narrate(rng: random.Random, sample: Sample) -> Sample:
    """The same request told the long way: a sentence about a file, an indirect ask, a closer.

    A request with a tail (text after a colon) keeps the tail at its end, so the span the plan
    copies stays where the decoder can reach it."""
    request = _strip_end(sample.request)
    story = [name for name in sample.files if name != PREVIOUS]
    lead = (rng.choice(FILE_STORIES[kind_of_file(story[0])]).format(f=story[0])
            if story and rng.random() < 0.8 else rng.choice(STORY_OPENERS))
    if ":" in request:
        text = f"{lead} {_cap(request)}"
    else:
        text = f"{lead} {rng.choice(INDIRECT_ASKS).format(r=_lower_first(request))}"
        text += rng.choice(CLOSERS)
    return Sample(_polish(text), sample.files, sample.plan, sample.history, sample.shape)


def generate(count: int, seed: int = 0) -> list[Sample]:
    """``count`` valid samples, deterministic for a seed, with ``previous-result.txt`` attached
    but unused in some (every later turn of a conversation carries it)."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for sample in _stream(rng):
        roll = rng.random()
        if sample.plan and roll < 0.25:
            decorated = decorate(rng, sample)
            sample = decorated if check(decorated) else sample
        elif sample.plan and roll < 0.5 and sample.shape != "followup":
            narrated = narrate(rng, sample)
            sample = narrated if check(narrated) else sample
        key = (sample.request, tuple(sample.files))
        if key in seen or not check(sample):
            continue
        seen.add(key)
        samples.append(sample)
        if len(samples) >= count:
            break
    return samples


def _stream(rng: random.Random) -> Iterator[Sample]:
    for _ in range(1_000_000):
        shape = weighted(rng, SHAPES)
        sample = _BUILDERS[shape](rng)
        if sample is None:
            continue
        if shape not in ("followup", "chat") and rng.random() < 0.12:
            sample.files = [*sample.files, PREVIOUS]
            if rng.random() < 0.5:
                sample.history = [rng.choice(EARLIER)]
        yield sample
