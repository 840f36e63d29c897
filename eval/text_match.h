#pragma once
// Scoring a generated text against reference answers.
//   normalise_answer  trim, and collapse every run of whitespace (space, tab, newline, CR, FF, VT)
//                     into one space; nothing else changes (case and punctuation count)
//   exact_match       1 when the normalised output equals some normalised reference, else 0
//   token_f1          SQuAD's overlap score on whitespace tokens of the normalised texts: with
//                     c = the size of the multiset intersection of output and reference tokens,
//                     precision c / |output|, recall c / |reference|, F1 = 2 P R / (P + R)
//                     (0 when c = 0; 1 when both are empty, 0 when only one is); the best over the
//                     references
// Unlike SQuAD's script, no lower-casing, punctuation or article removal.
#include <string>
#include <string_view>
#include <vector>

namespace tessera::eval {

std::string normalise_answer(std::string_view text);
double exact_match(std::string_view output, const std::vector<std::string>& references);
double token_f1(std::string_view output, const std::vector<std::string>& references);

}  // namespace tessera::eval
