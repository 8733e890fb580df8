# A Rack app on nothing but rack: a greeting, a counter kept in memory, and a health check.
require "json"

visits = 0
lock = Mutex.new

app = lambda do |env|
  request = Rack::Request.new(env)
  case [request.request_method, request.path_info]
  when ["GET", "/health"]
    [200, { "content-type" => "application/json" }, [JSON.generate(ok: true, pid: Process.pid)]]
  when ["GET", "/"]
    count = lock.synchronize { visits += 1 }
    name = request.params["name"].to_s.strip
    name = "world" if name.empty?
    body = JSON.generate(message: "Hello, #{name}!", visits: count, ruby: RUBY_VERSION, rack: Rack.release)
    [200, { "content-type" => "application/json" }, [body + "\n"]]
  else
    [404, { "content-type" => "application/json" }, [JSON.generate(error: "no route for #{request.request_method} #{request.path_info}")]]
  end
end

run app
