#include "reconcilers/function_job.h"

#include <string>

namespace stepline::reconcilers {

using k8s::Object;

void AddFunctionCall(const Step& step, const std::string& ns, const ArtifactStagingOptions& options,
                     Object* pod_spec) {
  if (!step.function) return;
  const std::string& name = step.function->name;
  Object& c = (*pod_spec)["containers"][0];
  c["image"] = options.image;
  c["command"] = Object::array(
      {"stepline-artifacts", "invoke", "--url-source",
       "the key \"" + name + "\" of ConfigMap " + kFunctionsConfigMap + " in namespace " + ns,
       "--outputs-file", "/dev/termination-log", "--error-file", "/dev/termination-log"});
  Object& env = c["env"];
  if (!env.is_array()) env = Object::array();
  // The step's environment (stepDefaults' proxies, say) applies, but not a PATH: the image is
  // the controller's, whose PATH finds stepline-artifacts.
  for (auto it = env.begin(); it != env.end();) {
    it = it->value("name", "") == "PATH" ? env.erase(it) : it + 1;
  }
  env.push_back({{"name", kFunctionUrlEnv},
                 {"valueFrom",
                  {{"configMapKeyRef",
                    {{"name", kFunctionsConfigMap}, {"key", name}, {"optional", true}}}}}});
}

}  // namespace stepline::reconcilers
