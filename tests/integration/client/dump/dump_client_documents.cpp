// Prints every GraphQL document railwatch's Railway client can emit as a JSON array of
// {name, query, valid} for tools/graphql-validate/validate.mjs (ctest: schema.client_documents).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "railway/config.hpp"
#include "railway/documents.hpp"

int main() {
    using railwatch::railway::documents::AllDocuments;
    const std::size_t default_batch = railwatch::railway::ClientConfig{}.batch_size;
    nlohmann::json out = nlohmann::json::array();
    for (const auto& doc : AllDocuments({1, 2, default_batch, 100})) {
        out.push_back({{"name", doc.name}, {"query", doc.query}, {"valid", true}});
    }
    // Controls: the validator must reject these, or the check proves nothing.
    out.push_back({{"name", "control: unknown field on Deployment"},
                   {"query", "query { deployment(id: \"x\") { id noSuchField } }"},
                   {"valid", false}});
    out.push_back({{"name", "control: selection on a Boolean mutation"},
                   {"query", "mutation { deploymentRollback(id: \"x\") { id } }"},
                   {"valid", false}});
    std::puts(out.dump(2).c_str());
    return 0;
}
